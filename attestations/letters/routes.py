"""HTTP surface of letters: the resident's redeem page (`/letters/redeem`, where a letter's QR
code leads with the code filled in) and the platforms' paper-vote API (`POST /letters/votes`,
client-authenticated, RFC 9457 problems). Thin: check the login, CSRF or client, call one
domain function, commit, answer."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from attestations.letters import messages  # noqa: F401 (registers the page texts)
from attestations.letters.config import REDEEM_PATH
from attestations.letters.errors import InvalidVoteRequest, LetterRefused
from attestations.letters.service import RedeemedLetter, redeem_letter
from attestations.letters.votes import paper_vote
from attestations.letters.web import config_of
from attestations.platforms import authenticate_platform
from core import JsonBody, check_csrf, db_session, openapi, page_language, render, when
from identity import (
    FormStr,
    LoginThrottled,
    SessionDep,
    client_ip,
    current_session,
    see_other,
)
from keys import subject_keys_of

router = APIRouter(tags=["letters"])
DbSession = Annotated[Session, Depends(db_session)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# what a letter's QR code may carry in `?code=`: passed on to the form, never looked up
PREFILL = re.compile(r"^[A-Za-z0-9 \-]{1,32}$")


def _prefill(value: str | None) -> str:
    return value if value is not None and PREFILL.match(value) else ""


def _login(code: str) -> Response:
    target = f"{REDEEM_PATH}?{urlencode({'code': code})}" if code else REDEEM_PATH
    return see_other("/login?" + urlencode({"return_to": target}, safe="/"))


def _form(
    request: Request,
    code: str = "",
    error: str | None = None,
    status_code: int = 200,
    throttled_minutes: int | None = None,
) -> Response:
    context = {
        "code": code,
        "errors": {"code": error} if error else {},
        "throttled_minutes": throttled_minutes,
    }
    response = render(request, "letters/redeem.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


@router.get(REDEEM_PATH, include_in_schema=False)
def redeem_page(request: Request, session: SessionDep) -> Response:
    """The letter's QR code opens this with the code filled in; without a login, the login
    page comes first and returns here."""
    code = _prefill(request.query_params.get("code"))
    if current_session(request, session) is None:
        return _login(code)
    return _form(request, code)


@router.post(REDEEM_PATH, include_in_schema=False)
def redeem(
    request: Request, session: SessionDep, code: FormStr = "", csrf_token: FormStr = ""
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    browser = current_session(request, session)
    if browser is None:
        return _login(_prefill(code))
    if not code.strip():  # nothing typed: ask for the code (and spend no attempt on it)
        return _form(request, "", "letters.error.empty", 400)
    try:
        redeemed = redeem_letter(
            session,
            config_of(request),
            subject_keys_of(request),
            account_id=browser.account_id,
            code=code,
            ip=client_ip(request),
        )
    except LoginThrottled as exc:
        response = _form(request, _prefill(code), None, 429, max(1, -(-exc.retry_after // 60)))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except LetterRefused as exc:
        return _form(request, _prefill(code), exc.message_key, exc.status_code)
    session.commit()
    return _offer_page(request, redeemed)


def _offer_page(request: Request, redeemed: RedeemedLetter) -> Response:
    """The new offer, once: "keep in my Kluis wallet" (the transaction code goes along) or the
    QR code for a wallet app with its transaction code. Not cached; the code is not stored."""
    offer = redeemed.offer
    context = {
        "area": redeemed.postcode_area,
        "expires": when(offer.expires_at, lang=page_language(request)),
        "offer_id": offer.offer_id,
        "offer_ref": offer.credential_offer_uri.rsplit("/", 1)[1],
        "offer_uri": offer.offer_uri,
        "tx_code": offer.tx_code,
    }
    response = render(request, "letters/offer.html", context)
    response.headers.update(NO_STORE)
    return response


@router.post(
    "/letters/votes",
    name="letters_paper_vote",
    openapi_extra=openapi.json_body(
        {
            "code": None,
            "poll_id": None,
            "claims": {"type": "array", "items": {"type": "string"}},
            "client_assertion_type": openapi.CLIENT_AUTH_FIELDS["client_assertion_type"],
            "client_assertion": None,
        },
        ["code", "poll_id"],
    ),
)
def vote(request: Request, session: DbSession, body: JsonBody) -> JSONResponse:
    """A vote on paper with a letter's code: answered once per code, platform and poll."""
    client = authenticate_platform(request, session, body)
    if body is None:
        raise InvalidVoteRequest("the body must be a JSON object (application/json)")
    try:
        result = paper_vote(
            session,
            config_of(request),
            client_id=client.client_id,
            sector=client.sector_identifier,
            code=body.get("code"),
            poll_id=body.get("poll_id"),
            claims=body.get("claims"),
        )
    except LetterRefused:
        session.commit()  # the refusal's audit entry
        raise
    session.commit()
    return JSONResponse(result, headers=NO_STORE)
