"""The resident's consent pages: "Mijn toestemmingen / My consents" (`/account/consents`),
one-click withdrawal per field or per platform (POST with CSRF), and signed consent receipts.
Thin: check the login and CSRF, call one domain function, commit, redirect (POST/redirect/GET).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from consent import GIVEN, POLL_PURPOSE_PREFIX, consents_of, withdraw_consent
from core import check_csrf, db_session, i18n, page_language, render, when
from identity import Provider, current_session, get_account, get_client, provider_of
from rights import messages  # noqa: F401 (registers the page texts)
from rights.errors import NoConsents
from rights.export import export_account
from rights.receipts import consent_receipt
from rights.signals import ConsentSignals

router = APIRouter(tags=["consent"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=256)]
CONSENTS_PATH = "/account/consents"
STATUSES = {"withdrawn": "consent.status.withdrawn", "nothing": "consent.status.nothing"}


@dataclass(frozen=True)
class Row:
    claim: str
    label: str
    purpose: str
    state: str
    since: dt.datetime


@dataclass(frozen=True)
class Platform:
    client_id: str
    name: str
    rows: list[Row]

    @property
    def any_given(self) -> bool:
        return any(r.state == GIVEN for r in self.rows)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request, return_to: str) -> Response:
    query = {"return_to": return_to}
    if (lang := request.query_params.get("lang")) in i18n.SUPPORTED:
        query["lang"] = str(lang)
    return see_other("/login?" + urlencode(query, safe="/"))


def _label(provider: Provider, claim: str, lang: str) -> str:
    if claim == "offline_access":
        return i18n.translate(lang, "consent.claim.offline_access")
    return provider.claims.label(claim, lang)


def _purpose(purpose: str, described: str, lang: str) -> str:
    """What the consent was for, as the resident was told: the poll, else the platform's
    own words recorded with the consent, else Kluis's text for the purpose (never a key)."""
    if purpose.startswith(POLL_PURPOSE_PREFIX):  # consent per poll: name the poll
        return i18n.translate(
            lang, "consent.purpose.poll", poll=purpose[len(POLL_PURPOSE_PREFIX) :]
        )
    if described.strip():
        return described.strip()
    key = f"consent.purpose.{purpose}"
    text = i18n.translate(lang, key)
    return i18n.translate(lang, "consent.purpose.service-provision") if text == key else text


def _platforms(session: Session, provider: Provider, account_id: str, lang: str) -> list[Platform]:
    platforms = []
    for client_id, states in consents_of(session, account_id).items():
        client = get_client(session, client_id)
        rows = [
            Row(
                claim=s.record.claim,
                label=_label(provider, s.record.claim, lang),
                purpose=_purpose(s.record.purpose, s.record.purpose_description, lang),
                state=s.state,
                since=s.changed_at,
            )
            for s in states
        ]
        platforms.append(Platform(client_id, client.name if client else client_id, rows))
    return sorted(platforms, key=lambda p: p.name.lower())


@router.get(CONSENTS_PATH)
def consents_page(request: Request, session: SessionDep, status: str = "") -> Response:
    browser = current_session(request, session)
    if browser is None:
        return login_redirect(request, CONSENTS_PATH)
    provider = provider_of(request)
    context = {
        "platforms": _platforms(session, provider, browser.account_id, page_language(request)),
        "status": STATUSES.get(status),
        "when": when,
    }
    response = render(request, "rights/consents.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(CONSENTS_PATH + "/withdraw")
def withdraw(
    request: Request,
    session: SessionDep,
    client_id: FormStr = "",
    claim: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Withdraw one field (`claim`) or, without it, everything at one platform."""
    check_csrf(request, {"csrf_token": csrf_token})
    browser = current_session(request, session)
    if browser is None:
        return login_redirect(request, CONSENTS_PATH)
    provider = provider_of(request)
    withdrawn = withdraw_consent(
        session,
        account_id=browser.account_id,
        subject_ref=provider.subject_keys.reference(session, browser.account_id),
        client_id=client_id,
        claims=[claim] if claim else None,
        actor="resident",
        method="consent-page",
        listener=ConsentSignals.of(provider),
    )
    session.commit()
    return see_other(f"{CONSENTS_PATH}?status={'withdrawn' if withdrawn else 'nothing'}")


@router.get(CONSENTS_PATH + "/receipt/{client_id}")
def receipt(request: Request, session: SessionDep, client_id: str) -> Response:
    """The signed consent receipt (a JWT, ES256) for one platform."""
    browser = current_session(request, session)
    if browser is None:
        return login_redirect(request, CONSENTS_PATH)
    provider = provider_of(request)
    client = get_client(session, client_id)
    if client is None:
        raise NoConsents(client_id)
    signed = consent_receipt(  # no consents there: `NoConsents`, a 404 problem
        session,
        provider.keyring,
        provider.subject_ids,
        issuer=provider.config.issuer,
        account_id=browser.account_id,
        client=client,
    )
    return Response(
        signed.token,
        media_type="application/jwt",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="receipt-{signed.receipt_id}.jwt"',
        },
    )


@router.get("/account/export")
def export(request: Request, session: SessionDep) -> Response:
    """Everything Kluis holds about the resident as JSON (GDPR Art. 15 and 20)."""
    browser = current_session(request, session)
    account = get_account(session, browser.account_id) if browser is not None else None
    if account is None:
        return login_redirect(request, "/account/export")
    data = export_account(session, provider_of(request), account)
    return JSONResponse(
        data,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="kluis-export.json"',
        },
    )
