"""Account pages for getting (back) in: forgotten password and desk activation."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core import check_csrf, page_language, render
from identity.accounts import messages  # noqa: F401 (registers the page texts)
from identity.accounts.desk import activate_account
from identity.accounts.errors import AccountError, InvalidEmail, InvalidToken, LoginThrottled
from identity.accounts.recovery import (
    request_password_reset,
    reset_password,
    reset_token_is_valid,
)
from identity.accounts.sessions import clear_session_cookie
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

# --- forgotten password -------------------------------------------------------------------


@router.get("/password/forgot")
def forgot_form(request: Request, status: str = "") -> Response:
    if status == "sent":
        return message_page(request, "accounts.forgot.sent.title", "accounts.forgot.sent.body")
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
    try:
        request_password_reset(accounts, session, email=email, lang=page_language(request))
    except InvalidEmail as exc:  # a typo, said as such: it tells nothing about any account
        context = {"errors": errors_of(exc), "email": email}
        return render(request, "accounts/forgot.html", context, status_code=400)
    session.commit()
    return see_other("/password/forgot?status=sent")


def _reset_link_failed(request: Request) -> Response:
    return message_page(
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
        context = {"token": token, "errors": errors_of(exc)}
        return render(request, "accounts/reset.html", context, status_code=400)
    session.commit()
    response = see_other("/login?status=password_reset")
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
            ip=client_ip(request),
        )
    except AccountError as exc:
        session.commit()  # a wrong code counts towards the limit
        context = {"code": code, "email": email, "errors": errors_of(exc)}
        throttled = exc if isinstance(exc, LoginThrottled) else None
        response = render(
            request, "accounts/activate.html", context, status_code=429 if throttled else 400
        )
        if throttled is not None:
            response.headers["Retry-After"] = str(throttled.retry_after)
        return response
    session.commit()
    return message_page(
        request,
        "accounts.activate.done.title",
        "accounts.activate.done.body",
        link="/login",
        link_text="accounts.login.title",
        handle=account.handle,
    )
