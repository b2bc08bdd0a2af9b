"""Pages of the one who asks to be confirmed (issue 10): "Vraag een buur om je te bevestigen"
on the resident's own phone (`/account/vouching`), and the same for a desk account without a
smartphone on the desk's screen (`/desk/vouching`, operators with the desk role only).

Opening a request shows a QR code (a URL on Kluis with the request's token), the 4-digit check
code and the 8-character short code. Kluis stores only hashes of the token and the short code,
so the page that shows them keeps them in a cookie of this browser alone (HttpOnly, SameSite
Strict, on this page's path, for as long as the request could be open): a reload, and the
page's small status script (`/static/vouching.js`, which polls `…/state` and reloads when
something changed), show the same codes. Without JavaScript, a link refreshes the status.
When enough confirmations count, a button makes the `real_person` offer (`verification:
peer`), to keep in the built-in wallet or scan into a wallet app. Thin: check the login (or the
desk role) and CSRF, call one domain function, commit, render."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from attestations import (
    messages_vouching,  # noqa: F401 (registers the page texts)
    vouching,
)
from attestations.desk import (
    DeskRefused,
    desk_actor,
    desk_operator,
    desk_resident,
    waiting_a_day,
)
from attestations.desk_page import render_desk
from attestations.qr import qr_svg
from attestations.types import TYPES
from attestations.web import attestation_config
from core import FormDep, Problem, check_csrf, page_language, render, utcnow, when
from identity import (
    Account,
    FormStr,
    SessionDep,
    current_session,
    get_account,
    get_accounts,
    message_page,
    see_other,
)
from keys import subject_keys_of

router = APIRouter(tags=["vouching"], include_in_schema=False)
RESIDENT_PATH = "/account/vouching"
DESK_PATH = "/desk/vouching"
VOUCH_PATH = "/vouch"  # where the QR code leads the voucher (`routes_vouching_voucher`)
COOKIE = "kluis_vouch"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# the shown request outlives its codes a while, so the page can still say how it ended
KEEP_SHOWN = dt.timedelta(hours=1)
_SHOWN = re.compile(
    r"^(?P<id>[0-9a-f]{32})\.(?P<token>[A-Za-z0-9_-]{16,128})\.(?P<short>[A-Z0-9]{8})"
    r"\.(?P<check>[0-9]{4})\.(?P<expires>[0-9]{1,12})\.(?P<vouchee>[0-9A-Za-z-]{0,64})$"
)


@dataclass(frozen=True)
class Shown:
    """The request this browser shows: what the QR code and the codes need, never stored
    by Kluis. `vouchee_id` only on the desk (a resident's own is their session's account)."""

    request_id: str
    token: str
    short_code: str
    check_code: str
    expires_at: dt.datetime
    vouchee_id: str = ""

    def cookie(self) -> str:
        expires = str(int(self.expires_at.timestamp()))
        parts = (self.request_id, self.token, self.short_code, self.check_code, expires)
        return ".".join((*parts, self.vouchee_id))


# why a peer proof ended, as the resident reads it (messages vouching.lapsed.*)
LAPSE_REASONS = ("below_threshold", "expired")


def vouching_config(request: Request) -> vouching.VouchingConfig:
    config: vouching.VouchingConfig = request.app.state.runtime.vouching
    return config


def _shown(request: Request) -> Shown | None:
    """The cookie's request, if it is well formed (a stale or tampered one is just ignored:
    `request_state` shows only the requests of the account asked about)."""
    found = _SHOWN.match(request.cookies.get(COOKIE, ""))
    if found is None:
        return None
    try:
        expires = dt.datetime.fromtimestamp(int(found["expires"]), dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return Shown(
        found["id"], found["token"], found["short"], found["check"], expires, found["vouchee"]
    )


def _remember(
    request: Request, path: str, opened: vouching.OpenedRequest, vouchee: str
) -> Response:
    shown = Shown(
        opened.id, opened.token, opened.short_code, opened.check_code, opened.expires_at, vouchee
    )
    response = see_other(path)
    response.set_cookie(
        COOKIE,
        shown.cookie(),
        max_age=int((opened.expires_at - utcnow() + KEEP_SHOWN).total_seconds()),
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.app.state.templates.secure_cookies,
    )
    return response


def _login(target: str) -> Response:
    return see_other("/login?" + urlencode({"return_to": target}, safe="/"))


def _account_id(request: Request, session: SessionDep) -> str | None:
    browser = current_session(request, session)
    return browser.account_id if browser is not None else None


def _qr_data_uri(data: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(data)).decode("ascii")


def _state(
    session: SessionDep, config: vouching.VouchingConfig, vouchee_id: str, shown: Shown | None
) -> dict[str, object]:
    standing = vouching.progress(session, config, vouchee_id)
    state = vouching.request_state(session, shown.request_id, vouchee_id) if shown else None
    return {
        "state": state,
        "confirmations": standing.confirmations,
        "threshold": standing.threshold,
        "verified": standing.verified,
        "can_claim": standing.can_claim,
    }


def _verified(request: Request, session: SessionDep, vouchee: str) -> bool:
    """Whether the resident already has a 'real person' proof that stays valid long enough:
    then no request is opened or shown, so no neighbour spends a confirmation on it."""
    return vouching.progress(session, vouching_config(request), vouchee).verified


def _ask_page(
    request: Request, session: SessionDep, vouchee: str, base: str, handle: str | None = None
) -> Response:
    config = vouching_config(request)
    shown = _shown(request)
    if shown is not None and shown.vouchee_id and shown.vouchee_id != vouchee:
        shown = None  # the desk screen's earlier request was another resident's
    state = _state(session, config, vouchee, shown)
    vouch_url = attestation_config(request).issuer + VOUCH_PATH
    context: dict[str, object] = {
        **state,
        "base": base,
        "desk": handle is not None,
        "handle": handle,
        "window_days": config.rules.window.days,
        "vouch_url": vouch_url,
    }
    lapsed = None if state["verified"] else vouching.last_lapse(session, vouchee)
    if lapsed is not None:  # the resident lost their peer proof: say when and why, once
        reason = lapsed.reason if lapsed.reason in LAPSE_REASONS else "other"
        context["lapsed"] = {
            "reason": reason,
            "date": when(lapsed.at, day_only=True, lang=page_language(request)).text,
        }
    # the codes, shown again; not once a long-valid proof makes a confirmation pointless
    if shown is not None and state["state"] == "open" and not state["verified"]:
        context |= {
            "qr": _qr_data_uri(f"{vouch_url}/{shown.token}"),
            "check_code": shown.check_code,
            "short_code": f"{shown.short_code[:4]} {shown.short_code[4:]}",
            "expires": when(shown.expires_at, lang=page_language(request)),
        }
    response = render(request, "vouching/ask.html", context)
    response.headers.update(NO_STORE)
    return response


def _state_json(session: SessionDep, request: Request, vouchee: str) -> JSONResponse:
    body = _state(session, vouching_config(request), vouchee, _shown(request))
    return JSONResponse(body, headers=NO_STORE)


def _not_logged_in() -> Problem:
    return Problem(
        "Log in first.", status=401, title="Authentication required", slug="unauthorized"
    )


def _failed(request: Request, exc: vouching.VouchingRefused, back: str) -> Response:
    return message_page(
        request,
        "vouching.failed.title",
        exc.message_key,
        status_code=exc.status_code,
        link=back,
        link_text="vouching.back" if back == RESIDENT_PATH else "desk.back",
    )


# --- the resident's own phone ------------------------------------------------------------------


@router.get(RESIDENT_PATH)
def ask_page(request: Request, session: SessionDep) -> Response:
    account_id = _account_id(request, session)
    if account_id is None:
        return _login(RESIDENT_PATH)
    return _ask_page(request, session, account_id, RESIDENT_PATH)


@router.get(RESIDENT_PATH + "/state")
def ask_state(request: Request, session: SessionDep) -> JSONResponse:
    account_id = _account_id(request, session)
    if account_id is None:
        raise _not_logged_in()
    return _state_json(session, request, account_id)


@router.post(RESIDENT_PATH)
def ask(request: Request, session: SessionDep, csrf_token: FormStr = "") -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    account_id = _account_id(request, session)
    if account_id is None:
        return _login(RESIDENT_PATH)
    if _verified(request, session, account_id):  # nothing to ask a neighbour for
        return see_other(RESIDENT_PATH)
    opened = vouching.open_request(
        session, subject_keys_of(request), vouching_config(request), vouchee_id=account_id
    )
    session.commit()
    return _remember(request, RESIDENT_PATH, opened, "")


@router.post(RESIDENT_PATH + "/claim")
def claim(request: Request, session: SessionDep, csrf_token: FormStr = "") -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    account_id = _account_id(request, session)
    if account_id is None:
        return _login(RESIDENT_PATH)
    try:
        made = vouching.issue_peer_attestation(
            session,
            subject_keys_of(request),
            vouching_config(request),
            account_id=account_id,
            language=page_language(request),
        )
    except (vouching.ThresholdNotMet, vouching.AlreadyVerified) as exc:
        return _failed(request, exc, RESIDENT_PATH)
    session.commit()
    offer = made.offer
    context = {
        "expires": when(offer.expires_at, lang=page_language(request)),
        "offer_id": offer.offer_id,
        "offer_qr": offer.credential_offer_uri + "/qr.svg",
        "offer_uri": offer.offer_uri,
        "tx_code": offer.tx_code,
    }
    response = render(request, "vouching/offer.html", context)
    response.headers.update(NO_STORE)
    return response


# --- the desk's screen, for a desk account ---------------------------------------------------


def _operator(request: Request, session: SessionDep) -> str:
    return desk_operator(session, _account_id(request, session))


def _desk_vouchee(request: Request, session: SessionDep) -> Account | None:
    shown = _shown(request)
    return get_account(session, shown.vouchee_id) if shown and shown.vouchee_id else None


def _desk_open(request: Request, session: SessionDep, operator_id: str, vouchee: str) -> Response:
    keys = subject_keys_of(request)
    opened = vouching.open_request(
        session,
        keys,
        vouching_config(request),
        vouchee_id=vouchee,
        opened_by=desk_actor(session, keys, operator_id),
    )
    session.commit()
    return _remember(request, DESK_PATH, opened, vouchee)


@router.post(DESK_PATH)
def desk_ask(request: Request, session: SessionDep, body: FormDep) -> Response:
    form = body or {}
    check_csrf(request, form)
    operator_id = _operator(request, session)
    typed = form.get("vouching-resident", "")
    try:
        resident = desk_resident(get_accounts(request), session, typed)
    except DeskRefused as exc:
        values = {"resident": typed}
        return render_desk(request, "vouching", exc.errors, values, status_code=400)
    if _verified(request, session, resident.id):
        # as on the resident's own page: only the message, no request a neighbour could
        # spend a confirmation on for nothing
        return _ask_page(request, session, resident.id, DESK_PATH, handle=resident.handle)
    return _desk_open(request, session, operator_id, resident.id)


@router.post(DESK_PATH + "/again")
def desk_again(request: Request, session: SessionDep, csrf_token: FormStr = "") -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    operator_id = _operator(request, session)
    resident = _desk_vouchee(request, session)
    if resident is None:
        return see_other("/desk")
    if _verified(request, session, resident.id):
        return see_other(DESK_PATH)
    return _desk_open(request, session, operator_id, resident.id)


@router.get(DESK_PATH)
def desk_page(request: Request, session: SessionDep) -> Response:
    _operator(request, session)
    resident = _desk_vouchee(request, session)
    if resident is None:
        return see_other("/desk")
    return _ask_page(request, session, resident.id, DESK_PATH, handle=resident.handle)


@router.get(DESK_PATH + "/state")
def desk_state(request: Request, session: SessionDep) -> JSONResponse:
    _operator(request, session)
    resident = _desk_vouchee(request, session)
    if resident is None:
        raise vouching.RequestGone()
    return _state_json(session, request, resident.id)


def _at_the_desk(config: vouching.VouchingConfig) -> vouching.VouchingConfig:
    """The peer offer made at the desk waits as the desk's other offers do."""
    return dataclasses.replace(config, attestations=waiting_a_day(config.attestations))


@router.post(DESK_PATH + "/claim")
def desk_claim(request: Request, session: SessionDep, csrf_token: FormStr = "") -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    operator_id = _operator(request, session)
    resident = _desk_vouchee(request, session)
    if resident is None:
        return see_other("/desk")
    keys = subject_keys_of(request)
    try:
        made = vouching.issue_peer_attestation(
            session,
            keys,
            _at_the_desk(vouching_config(request)),
            account_id=resident.id,
            actor=desk_actor(session, keys, operator_id),
            language=page_language(request),
        )
    except (vouching.ThresholdNotMet, vouching.AlreadyVerified) as exc:
        return _failed(request, exc, DESK_PATH)
    session.commit()
    lang = page_language(request)
    context = {
        "type_name": TYPES["real_person"].name.get(lang) or "real_person",
        "handle": resident.handle,
        "qr": made.offer.credential_offer_uri + "/qr.svg",
        "tx_code": made.offer.tx_code,
        "expires": when(made.offer.expires_at, lang=lang).text,
    }
    response = render(request, "desk/offer.html", context)
    response.headers.update(NO_STORE)
    return response
