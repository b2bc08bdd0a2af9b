"""Account pages: login, logout, registration and e-mail verification (and, from
`routes_recovery`, forgotten password and desk activation). Thin: check CSRF, call one domain
function, commit, map errors to pages.

State-changing forms answer with a redirect (POST/redirect/GET) so that reloading a page
never sends a form twice.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from core import check_csrf, page_language, render
from identity.accounts import messages  # noqa: F401 (registers the page texts)
from identity.accounts.errors import (
    AccountError,
    EmailNotVerified,
    InvalidCredentials,
    InvalidToken,
    LoginThrottled,
)
from identity.accounts.login import log_in, log_out, safe_return_to
from identity.accounts.service import register_account, resend_verification, verify_email
from identity.accounts.sessions import (
    SESSION_COOKIE,
    clear_session_cookie,
    current_session,
    set_session_cookie,
)
from identity.accounts.web import (
    AccountsDep,
    FormStr,
    SessionDep,
    client_ip,
    errors_of,
    message_page,
    see_other,
)

router = APIRouter(tags=["accounts"], include_in_schema=False)

LOGIN_STATUSES = {"logged_out", "email_verified", "password_reset"}
# where a login without (a usable) return_to lands: the resident's own page
AFTER_LOGIN = "/account"


# --- login and logout ---------------------------------------------------------------------


def _login_page(
    request: Request,
    session: Session,
    *,
    return_to: str,
    email: str = "",
    status: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    wallet_mode: bool = False,
) -> Response:
    context = {
        "wallet_mode": wallet_mode,
        "return_to": return_to,
        "email": email[:254],
        "status": f"accounts.status.{status}" if status in LOGIN_STATUSES else None,
        "errors": errors or {},
        "logged_in": current_session(request, session) is not None,
    }
    return render(request, "accounts/login.html", context, status_code=status_code)


@router.get("/login")
def login_form(
    request: Request,
    session: SessionDep,
    return_to: str = AFTER_LOGIN,
    login_hint: str = "",
    status: str = "",
    mode: str = "",
) -> Response:
    target = safe_return_to(return_to, AFTER_LOGIN)
    return _login_page(
        request,
        session,
        return_to=target,
        email=login_hint,
        status=status,
        wallet_mode=mode == "wallet",
    )


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    email: FormStr = "",
    password: FormStr = "",
    return_to: FormStr = AFTER_LOGIN,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    target = safe_return_to(return_to, AFTER_LOGIN)
    try:
        browser = log_in(
            accounts,
            session,
            identifier=email,
            password=password,
            ip=client_ip(request),
            lang=page_language(request),
            previous_sid=request.cookies.get(SESSION_COOKIE),
            return_to=target,
        )
    except LoginThrottled as exc:
        response = message_page(
            request,
            "accounts.throttled.title",
            "accounts.throttled.body",
            status_code=429,
            link="/password/forgot",
            link_text="accounts.login.forgot",
            minutes=math.ceil(exc.retry_after / 60),
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except (InvalidCredentials, EmailNotVerified) as exc:
        session.commit()  # the failure counts towards the limits; a new link was stored
        return _login_page(
            request, session, return_to=target, email=email, errors=errors_of(exc), status_code=400
        )
    session.commit()
    response = see_other(target)
    set_session_cookie(
        response,
        browser.sid,
        secure=accounts.secure_cookies,
        max_age=int(accounts.session_ttl.total_seconds()),
    )
    return response


@router.post("/logout-local")
def logout_local(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    log_out(accounts, session, request.cookies.get(SESSION_COOKIE))
    session.commit()
    response = see_other("/login?status=logged_out")
    clear_session_cookie(response, secure=accounts.secure_cookies)
    return response


# --- registration and verification --------------------------------------------------------


@router.get("/register")
def register_form(request: Request, return_to: str = "/", status: str = "") -> Response:
    if status in ("sent", "resent"):
        return render(request, "accounts/register_sent.html", {"resent": status == "resent"})
    context = {"return_to": safe_return_to(return_to), "email": "", "name": "", "errors": {}}
    return render(request, "accounts/register.html", context)


@router.post("/register")
def register_submit(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    email: FormStr = "",
    password: FormStr = "",
    name: FormStr = "",
    return_to: FormStr = "/",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    target = safe_return_to(return_to)
    try:
        register_account(
            accounts,
            session,
            email=email,
            password=password,
            name=name,
            lang=page_language(request),
            return_to=target,
        )
    except AccountError as exc:
        context = {"return_to": target, "email": email, "name": name, "errors": errors_of(exc)}
        return render(request, "accounts/register.html", context, status_code=400)
    session.commit()
    return see_other("/register?status=sent")


@router.post("/register/resend")
def register_resend(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    email: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    """A new confirmation link; the answer is the same whether or not the address has an
    account waiting (and at most one mail per cooldown goes out)."""
    check_csrf(request, {"csrf_token": csrf_token})
    resend_verification(accounts, session, email, page_language(request))
    session.commit()
    return see_other("/register?status=resent")


@router.get("/verify-email")
def verify_email_link(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    token: str = "",
    return_to: str = "/",
) -> Response:
    try:
        verify_email(accounts, session, token)
    except InvalidToken:
        return message_page(
            request,
            "accounts.verify.failed.title",
            "accounts.error.token",
            status_code=400,
            link="/login",
            link_text="accounts.login.title",
        )
    session.commit()
    query = {"status": "email_verified"}
    if (target := safe_return_to(return_to)) != "/":
        query["return_to"] = target
    return see_other("/login?" + urlencode(query))
