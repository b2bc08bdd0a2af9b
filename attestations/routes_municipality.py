"""Pages of "Haal mijn gegevens op bij de gemeente" (`attestations.municipality`): the
button's POST sends the logged-in resident to the DigiD broker, the broker's callback ends on
a page with the offers made, each with its QR code for a wallet app and a button to keep it
in the built-in wallet. Thin: check the login and CSRF, call one domain function, commit."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from adapters import RegistryError, UpstreamLoginError
from attestations import messages_municipality  # noqa: F401 (registers the page texts)
from attestations.municipality import (
    MunicipalityLoginGone,
    finish_municipality_login,
    start_municipality_login,
)
from attestations.types import TYPES
from attestations.web import attestation_config, municipality_of
from core import NotFound, check_csrf, page_language, render
from identity import (
    AccountError,
    FormStr,
    SessionDep,
    current_session,
    message_page,
    see_other,
)
from keys import subject_keys_of

router = APIRouter(tags=["attestations"], include_in_schema=False)
log = logging.getLogger("kluis.municipality")
START_PATH = "/account/municipality"
CALLBACK_PATH = "/account/municipality/callback"


def _login() -> RedirectResponse:
    return see_other("/login?" + urlencode({"return_to": "/account"}, safe="/"))


def _failed(request: Request, body: str, status_code: int, **params: object) -> Response:
    return message_page(
        request,
        "municipality.failed.title",
        body,
        status_code=status_code,
        link="/account",
        link_text="municipality.back",
        **params,
    )


@router.post(START_PATH)
def start(request: Request, session: SessionDep, csrf_token: FormStr = "") -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    source = municipality_of(request)
    if source is None:
        raise NotFound("The municipality is not connected to this Kluis.")
    browser = current_session(request, session)
    if browser is None:
        return _login()
    url = start_municipality_login(session, source, browser.account_id, page_language(request))
    session.commit()
    return see_other(url)


@router.get(CALLBACK_PATH)
def callback(request: Request, session: SessionDep) -> Response:
    source = municipality_of(request)
    if source is None:
        raise NotFound("The municipality is not connected to this Kluis.")
    browser = current_session(request, session)
    if browser is None:
        return _login()
    lang = page_language(request)
    try:
        result = finish_municipality_login(
            session,
            source,
            subject_keys_of(request),
            attestation_config(request),
            vouching=request.app.state.runtime.vouching,
            account_id=browser.account_id,
            callback=dict(request.query_params),
        )
    except MunicipalityLoginGone:
        session.commit()
        return _failed(request, "municipality.failed.gone", 400)
    except UpstreamLoginError as exc:
        session.commit()  # the pending login stays used
        log.warning("municipality login failed at the broker", extra={"reason": str(exc)})
        return _failed(request, "municipality.failed.message", 502, text=exc.resident_message(lang))
    except AccountError as exc:
        session.commit()  # the refusal is audited
        return _failed(request, exc.message_key, 409)
    except RegistryError as exc:
        session.commit()  # the person link stays: it is who they are
        log.warning("registry lookup failed", extra={"reason": str(exc)})
        return _failed(request, exc.resident_key, 502)
    session.commit()
    context = {
        "offers": [
            {
                "type_name": TYPES[type_id].name.get(lang) or type_id,
                "offer_id": offer.offer_id,
                "tx_code": offer.tx_code,
                "qr": offer.credential_offer_uri + "/qr.svg",
                "link": offer.offer_uri,
                "expires_at": offer.expires_at,
            }
            for type_id, offer in sorted(result.offers.items())
        ],
        "not_offered": [TYPES[t].name.get(lang) or t for t in result.not_offered],
        "shown_once": True,  # the transaction codes; the callback's code is spent
    }
    response = render(request, "municipality/offers.html", context)
    response.headers["Cache-Control"] = "no-store"  # transaction codes: not for any cache
    return response
