"""Pages of the voucher (issue 10): Jan scans the QR code on Klaas's phone (`/vouch/<token>`;
the token sits in the path, so that the page's language link keeps it) or types its short code
(`/vouch`), sees Klaas's display name and the check code both phones
show, and confirms honestly that he met Klaas in person and knows him by that name — or
declines, or reports the profile as fake. When the rules do not let him confirm now, the page
says why in plain words and offers no confirm button.

Each answer names the request again by what found it (the token, or the typed short code,
which counts against the typing limit only when it is wrong), never by an id the page could
be handed. Unknown, expired and answered requests all get the same page. Thin: check the login
and CSRF, call one domain function, commit, render."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from attestations import (
    messages_vouching,  # noqa: F401 (registers the page texts)
    vouching,
)
from attestations.vouching.requests import normalize_short_code
from core import InvalidInput, check_csrf, render
from identity import (
    FormStr,
    LoginThrottled,
    SessionDep,
    client_ip,
    current_session,
    message_page,
    see_other,
)
from keys import subject_keys_of

router = APIRouter(tags=["vouching"], include_in_schema=False)
VOUCH_PATH = "/vouch"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")  # what `core.new_token` makes, with room
CONFIRM, DECLINE = "confirm", "decline"


def vouching_config(request: Request) -> vouching.VouchingConfig:
    config: vouching.VouchingConfig = request.app.state.runtime.vouching
    return config


def _login(token: str = "") -> Response:
    target = f"{VOUCH_PATH}/{token}" if token else VOUCH_PATH
    return see_other("/login?" + urlencode({"return_to": target}, safe="/"))


def _account_id(request: Request, session: SessionDep) -> str | None:
    browser = current_session(request, session)
    return browser.account_id if browser is not None else None


def _page(request: Request, template: str, context: Mapping[str, object], status: int) -> Response:
    response = render(request, template, context, status_code=status)
    response.headers.update(NO_STORE)
    return response


def _code_form(
    request: Request, code: str = "", error: str | None = None, status: int = 200
) -> Response:
    return _page(request, "vouching/code.html", {"code": code, "error": error}, status)


def _throttled(request: Request, code: str, exc: LoginThrottled) -> Response:
    minutes = max(1, -(-exc.retry_after // 60))
    context = {"code": code, "error": None, "throttled_minutes": minutes}
    response = _page(request, "vouching/code.html", context, 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _gone(request: Request) -> Response:
    response = message_page(
        request,
        "vouching.failed.title",
        vouching.RequestGone.message_key,
        status_code=vouching.RequestGone.status,
        link=VOUCH_PATH,
        link_text="vouching.code.title",
    )
    response.headers.update(NO_STORE)
    return response


def _preview_page(
    request: Request,
    seen: vouching.Preview,
    found: dict[str, str],
    *,
    refusal: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rules = vouching_config(request).rules
    context = {
        "seen": seen,
        "found": found,
        "refusal": refusal or seen.refusal,
        "error": error,
        "min_age_days": rules.voucher_min_age.days,
        "quota_days": rules.quota_period.days,
    }
    return _page(request, "vouching/preview.html", context, status)


def _find(
    request: Request, session: SessionDep, voucher: str, t: str, code: str, *, typed: bool = False
) -> tuple[vouching.Preview, dict[str, str]] | Response:
    """The request the form names (by its token or its typed code), as the voucher sees it
    now; or the page that says it is gone (the code form again, with `typed`), or that typing
    is throttled."""
    config = vouching_config(request)
    keys = subject_keys_of(request)
    try:
        if TOKEN.match(t):
            seen = vouching.preview(session, keys, config, voucher_id=voucher, token=t)
            return seen, {"t": t}
        normalized = normalize_short_code(code) or code
        seen = vouching.preview(
            session, keys, config, voucher_id=voucher, short_code=code, ip=client_ip(request)
        )
    except LoginThrottled as exc:
        return _throttled(request, code[:32], exc)
    except vouching.RequestGone:
        session.commit()  # a wrong typed code stays counted
        return (
            _code_form(request, code[:32], "vouching.code.gone", 404) if typed else _gone(request)
        )
    session.commit()  # the typed code was right: its attempt is released
    return seen, {"code": normalized}


@router.get(VOUCH_PATH)
def vouch_page(request: Request, session: SessionDep) -> Response:
    """The form to type a short code (`?t=<token>` goes on to the token's own page)."""
    token = request.query_params.get("t")
    if token is not None:
        return scanned(request, session, token)
    if _account_id(request, session) is None:
        return _login()
    return _code_form(request)


@router.get(VOUCH_PATH + "/{token}")
def scanned(request: Request, session: SessionDep, token: str) -> Response:
    """Where the QR code leads. Without a login, the login page comes first and returns
    here, to the same request."""
    if not TOKEN.match(token):
        return _gone(request)  # an unknown request: the same page as an expired one
    voucher = _account_id(request, session)
    if voucher is None:
        return _login(token)
    found = _find(request, session, voucher, token, "")
    return found if isinstance(found, Response) else _preview_page(request, *found)


@router.post(VOUCH_PATH)
def vouch_code(
    request: Request, session: SessionDep, code: FormStr = "", csrf_token: FormStr = ""
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    voucher = _account_id(request, session)
    if voucher is None:
        return _login()
    if normalize_short_code(code) is None:
        return _code_form(request, code[:32], "vouching.code.gone", 400)
    found = _find(request, session, voucher, "", code, typed=True)
    return found if isinstance(found, Response) else _preview_page(request, *found)


@router.post(VOUCH_PATH + "/answer")
def answer(
    request: Request,
    session: SessionDep,
    t: FormStr = "",
    code: FormStr = "",
    answer: FormStr = "",
    honest: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    voucher = _account_id(request, session)
    if voucher is None:
        return _login(t if TOKEN.match(t) else "")
    if answer not in (CONFIRM, DECLINE):
        raise InvalidInput("answer must be confirm or decline")
    found = _find(request, session, voucher, t, code)
    if isinstance(found, Response):
        return found
    seen, by = found
    keys, config = subject_keys_of(request), vouching_config(request)
    try:
        if answer == DECLINE:
            vouching.decline(session, keys, voucher_id=voucher, request_id=seen.request_id)
        elif honest != "yes":
            return _preview_page(
                request, seen, by, error="vouching.preview.error.honest", status=400
            )
        else:
            vouching.confirm(session, keys, config, voucher_id=voucher, request_id=seen.request_id)
    except vouching.ConfirmationRefused as exc:
        session.commit()  # the refusal's audit entry
        return _preview_page(request, seen, by, refusal=exc.reason, status=exc.status_code)
    except vouching.RequestGone:
        session.rollback()
        return _gone(request)
    session.commit()
    body = "vouching.done.confirmed" if answer == CONFIRM else "vouching.done.declined"
    response = message_page(
        request,
        "vouching.done.title",
        body,
        link="/account",
        link_text="vouching.back",
        name=seen.vouchee_name,
    )
    response.headers.update(NO_STORE)
    return response


@router.post(VOUCH_PATH + "/report")
def report(
    request: Request,
    session: SessionDep,
    t: FormStr = "",
    code: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """Report the profile the request is for as fake: a steward decides (`vouching.decide`).
    The request itself stays as it is."""
    check_csrf(request, {"csrf_token": csrf_token})
    voucher = _account_id(request, session)
    if voucher is None:
        return _login(t if TOKEN.match(t) else "")
    found = _find(request, session, voucher, t, code)
    if isinstance(found, Response):
        return found
    seen, _ = found
    try:
        vouching.report_fake(
            session, subject_keys_of(request), reporter_id=voucher, reported_id=seen.vouchee_id
        )
    except vouching.ReportRefused as exc:
        session.rollback()
        response = message_page(
            request,
            "vouching.failed.title",
            exc.message_key,
            status_code=exc.status_code,
            link="/account",
            link_text="vouching.back",
        )
        response.headers.update(NO_STORE)
        return response
    session.commit()
    response = message_page(
        request,
        "vouching.done.title",
        "vouching.done.reported",
        link="/account",
        link_text="vouching.back",
    )
    response.headers.update(NO_STORE)
    return response
