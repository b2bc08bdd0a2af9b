"""Login by QR pages (`wallet_login` has the domain and its checks).

- `POST /login/wallet` starts a login (at most `wallet_login_max_starts_per_ip` per client
  address and window, else 429), gives this browser its binding cookie and shows
  `GET /login/wallet/{id}`: the QR code, the universal link, and a "continue" button.
- `GET /login/wallet/{id}/events` streams the status (SSE); the page's script submits the
  continue form when it is `done`. Without JavaScript the resident presses the button.
- `POST /login/wallet/{id}` completes the login in this browser, once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from attestations.verifier import messages_login  # noqa: F401 (registers the page texts)
from attestations.verifier.models import VerifierSession, WalletLogin
from attestations.verifier.qr_login import (
    WALLET_LOGIN_COOKIE,
    complete_wallet_login,
    cookie_path,
    find_wallet_login,
    start_wallet_login,
    wallet_login_state,
    wallet_login_status,
)
from attestations.verifier.session import session_links
from attestations.verifier.waiting import change_events, request_listener
from attestations.verifier.wakeup import Listener
from attestations.web import verifier_config
from core import Database, check_csrf, database_of, i18n, page_language, render
from identity import (
    SESSION_COOKIE,
    AccountsDep,
    FormStr,
    SessionDep,
    WalletLoginGone,
    WalletLoginPending,
    WalletLoginRefused,
    client_ip,
    message_page,
    safe_return_to,
    see_other,
    set_session_cookie,
)
from keys import keyring_of

router = APIRouter(tags=["accounts"], include_in_schema=False)
log = logging.getLogger("kluis.accounts")

AFTER_LOGIN = "/account"
FINAL = ("done", "expired", "cancelled", "used")
NO_STORE = {"Cache-Control": "no-store"}


def _gone(request: Request) -> Response:
    return message_page(
        request,
        "accounts.wallet.gone.title",
        "accounts.wallet.error.gone",
        status_code=410,
        link="/login",
        link_text="accounts.wallet.restart",
    )


def _wallet_page(
    request: Request,
    session: Session,
    login: WalletLogin,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    config = verifier_config(request)
    links = session_links(config, _verifier_row(session, login))
    state = wallet_login_state(session, login)
    context = {
        "login_id": login.id,
        "status": state["status"],
        "pairing_code": state.get("pairing_code"),
        "qr_svg_url": links["qr_svg_url"].removeprefix(config.issuer),
        "universal_link": links["universal_link"],
        "qr_payload": links["qr_payload"],
        "error": error,
    }
    response = render(request, "verifier/wallet_login.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


def _verifier_row(session: Session, login: WalletLogin) -> VerifierSession:
    row = session.get(VerifierSession, login.verifier_session_id)
    assert row is not None  # deleting a verifier session deletes its login (cascade)
    return row


def _secret(request: Request) -> str | None:
    return request.cookies.get(WALLET_LOGIN_COOKIE)


@router.post("/login/wallet")
def wallet_login_start(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    return_to: FormStr = AFTER_LOGIN,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    retry_after = accounts.limiter.start_wallet_login(session, client_ip(request))
    if retry_after is not None:
        log.warning("wallet login start throttled", extra={"retry_after": retry_after})
        response = message_page(
            request,
            "accounts.throttled.title",
            "accounts.wallet.throttled",
            status_code=429,
            link="/login",
            link_text="accounts.wallet.password_instead",
            minutes=math.ceil(retry_after / 60),
        )
        response.headers["Retry-After"] = str(retry_after)
        return response
    config = verifier_config(request)
    purpose = i18n.translate(page_language(request), "accounts.wallet.purpose")
    started = start_wallet_login(
        session, config, return_to=safe_return_to(return_to, AFTER_LOGIN), purpose=purpose
    )
    session.commit()
    response = see_other(cookie_path(started.login.id))
    response.set_cookie(
        WALLET_LOGIN_COOKIE,
        started.secret,
        max_age=int((started.login.expires_at - started.login.created_at).total_seconds()),
        httponly=True,
        samesite="strict",
        secure=accounts.secure_cookies,
        path=cookie_path(started.login.id),
    )
    return response


@router.get("/login/wallet/{login_id}")
def wallet_login_page(request: Request, login_id: str, session: SessionDep) -> Response:
    login = find_wallet_login(session, login_id, _secret(request))
    if login is None or wallet_login_status(session, login) in ("expired", "cancelled", "used"):
        return _gone(request)
    return _wallet_page(request, session, login)


def _read_state(database: Database, login_id: str, secret: str | None) -> dict[str, str] | None:
    with database.session() as session:
        login = find_wallet_login(session, login_id, secret)
        return wallet_login_state(session, login) if login is not None else None


def _events(
    request: Request,
    database: Database,
    login: tuple[str, str],
    secret: str | None,
    limit: float,
    listener: Listener | None,
) -> AsyncIterator[str]:
    """SSE: one `status` event (`{status, pairing_code?}`) per change until the login is
    final or `limit` passes. `login` is (login id, verifier session id): a change of the
    verification session wakes the stream at once on PostgreSQL (LISTEN/NOTIFY, any app
    process); on SQLite it re-reads every poll interval."""
    login_id, verifier_session_id = login
    return change_events(
        request,
        lambda: _read_state(database, login_id, secret),
        verifier_session_id,
        limit,
        listener,
        final=FINAL,
    )


@router.get("/login/wallet/{login_id}/events")
def wallet_login_events(request: Request, login_id: str, session: SessionDep) -> Response:
    login = find_wallet_login(session, login_id, _secret(request))
    if login is None:
        return Response(status_code=404, headers=NO_STORE)
    limit = (login.expires_at - login.created_at).total_seconds()
    watched = (login_id, login.verifier_session_id)
    session.close()  # each check below opens its own short transaction
    return StreamingResponse(
        _events(
            request,
            database_of(request),
            watched,
            _secret(request),
            limit,
            request_listener(request),
        ),
        media_type="text/event-stream",
        headers={**NO_STORE, "X-Accel-Buffering": "no"},
    )


@router.post("/login/wallet/{login_id}")
def wallet_login_complete(
    request: Request,
    login_id: str,
    session: SessionDep,
    accounts: AccountsDep,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    try:
        browser, return_to = complete_wallet_login(
            accounts,
            session,
            keyring_of(request),
            issuer=verifier_config(request).issuer,
            login_id=login_id,
            secret=_secret(request),
            previous_sid=request.cookies.get(SESSION_COOKIE),
        )
    except WalletLoginPending as exc:
        login = find_wallet_login(session, login_id, _secret(request))
        assert login is not None
        return _wallet_page(request, session, login, error=exc.message_key, status_code=409)
    except WalletLoginRefused as exc:
        session.commit()  # the refusal is audited
        return message_page(
            request,
            "accounts.wallet.refused.title",
            exc.message_key,
            status_code=403,
            link="/login",
            link_text="accounts.wallet.restart",
        )
    except WalletLoginGone:
        return _gone(request)
    session.commit()
    response = see_other(return_to)
    set_session_cookie(
        response,
        browser.sid,
        secure=accounts.secure_cookies,
        max_age=int(accounts.session_ttl.total_seconds()),
    )
    response.delete_cookie(
        WALLET_LOGIN_COOKIE,
        path=cookie_path(login_id),
        httponly=True,
        samesite="strict",
        secure=accounts.secure_cookies,
    )
    return response
