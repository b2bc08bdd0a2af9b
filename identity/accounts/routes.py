"""Account pages: login, logout, registration, e-mail verification, forgotten password and
desk activation. Thin: check CSRF, call one domain function, commit, map errors to pages.

State-changing forms answer with a redirect (POST/redirect/GET) so that reloading a page
never sends a form twice.
"""

from __future__ import annotations

import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core.db import db_session
from core.web import check_csrf, page_language, render
from identity.accounts import messages  # noqa: F401 (registers the page texts)
from identity.accounts.desk import activate_account
from identity.accounts.errors import (
    AccountError,
    EmailNotVerified,
    InvalidCredentials,
    InvalidToken,
    LoginThrottled,
)
from identity.accounts.login import log_in, log_out, safe_return_to
from identity.accounts.recovery import (
    request_password_reset,
    reset_password,
    reset_token_is_valid,
)
from identity.accounts.service import Accounts, register_account, verify_email
from identity.accounts.sessions import (
    SESSION_COOKIE,
    clear_session_cookie,
    current_session,
    set_session_cookie,
)

router = APIRouter(tags=["accounts"], include_in_schema=False)

LOGIN_STATUSES = {"logged_out", "email_verified", "password_reset"}
MAX_FIELD = 1024


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=MAX_FIELD)]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _errors(exc: AccountError) -> dict[str, str]:
    return {exc.field or "form": exc.message_key}


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _message(
    request: Request,
    title: str,
    body: str,
    *,
    status_code: int = 200,
    link: str | None = None,
    link_text: str | None = None,
    **params: object,
) -> Response:
    context = {
        "title": title,
        "body": body,
        "params": params,
        "link": link,
        "link_text": link_text,
        "alert": status_code >= 400,
    }
    return render(request, "accounts/message.html", context, status_code=status_code)


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
) -> Response:
    context = {
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
    return_to: str = "/",
    login_hint: str = "",
    status: str = "",
) -> Response:
    return _login_page(
        request, session, return_to=safe_return_to(return_to), email=login_hint, status=status
    )


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    email: FormStr = "",
    password: FormStr = "",
    return_to: FormStr = "/",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    target = safe_return_to(return_to)
    try:
        browser = log_in(
            accounts,
            session,
            identifier=email,
            password=password,
            ip=_client_ip(request),
            lang=page_language(request),
            previous_sid=request.cookies.get(SESSION_COOKIE),
            return_to=target,
        )
    except LoginThrottled as exc:
        response = _message(
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
            request, session, return_to=target, email=email, errors=_errors(exc), status_code=400
        )
    session.commit()
    response = _see_other(target)
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
    response = _see_other("/login?status=logged_out")
    clear_session_cookie(response, secure=accounts.secure_cookies)
    return response


# --- registration and verification --------------------------------------------------------


@router.get("/register")
def register_form(request: Request, return_to: str = "/", status: str = "") -> Response:
    if status == "sent":
        return _message(request, "accounts.register.sent.title", "accounts.register.sent.body")
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
        context = {"return_to": target, "email": email, "name": name, "errors": _errors(exc)}
        return render(request, "accounts/register.html", context, status_code=400)
    session.commit()
    return _see_other("/register?status=sent")


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
        return _message(
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
    return _see_other("/login?" + urlencode(query))


# --- forgotten password -------------------------------------------------------------------


@router.get("/password/forgot")
def forgot_form(request: Request, status: str = "") -> Response:
    if status == "sent":
        return _message(request, "accounts.forgot.sent.title", "accounts.forgot.sent.body")
    return render(request, "accounts/forgot.html")


@router.post("/password/forgot")
def forgot_submit(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    email: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    request_password_reset(accounts, session, email=email, lang=page_language(request))
    session.commit()
    return _see_other("/password/forgot?status=sent")


def _reset_link_failed(request: Request) -> Response:
    return _message(
        request,
        "accounts.verify.failed.title",
        "accounts.error.token",
        status_code=400,
        link="/password/forgot",
        link_text="accounts.reset.again",
    )


@router.get("/password/reset")
def reset_form(request: Request, session: SessionDep, token: str = "") -> Response:
    if not reset_token_is_valid(session, token):
        return _reset_link_failed(request)
    return render(request, "accounts/reset.html", {"token": token, "errors": {}})


@router.post("/password/reset")
def reset_submit(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    token: FormStr = "",
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    try:
        reset_password(accounts, session, token=token, password=password)
    except InvalidToken:
        return _reset_link_failed(request)
    except AccountError as exc:
        context = {"token": token, "errors": _errors(exc)}
        return render(request, "accounts/reset.html", context, status_code=400)
    session.commit()
    response = _see_other("/login?status=password_reset")
    clear_session_cookie(response, secure=accounts.secure_cookies)
    return response


# --- desk activation ----------------------------------------------------------------------


@router.get("/activate")
def activate_form(request: Request, code: str = "") -> Response:
    context = {"code": code[:64], "email": "", "errors": {}}
    return render(request, "accounts/activate.html", context)


@router.post("/activate")
def activate_submit(
    request: Request,
    session: SessionDep,
    accounts: AccountsDep,
    code: FormStr = "",
    email: FormStr = "",
    password: FormStr = "",
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, {"csrf_token": csrf_token})
    try:
        account = activate_account(
            accounts,
            session,
            code=code,
            password=password,
            email=email or None,
            lang=page_language(request),
        )
    except AccountError as exc:
        context = {"code": code, "email": email, "errors": _errors(exc)}
        return render(request, "accounts/activate.html", context, status_code=400)
    session.commit()
    return _message(
        request,
        "accounts.activate.done.title",
        "accounts.activate.done.body",
        link="/login",
        link_text="accounts.login.title",
        handle=account.handle,
    )
