"""Shared pieces of the account pages: dependencies, form field type, small responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import db_session, render
from identity.accounts.errors import AccountError
from identity.accounts.login import reconfirm
from identity.accounts.service import Accounts
from identity.accounts.sessions import BrowserSession

MAX_FIELD = 1024


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
SessionDep = Annotated[Session, Depends(db_session)]
FormStr = Annotated[str, Form(max_length=MAX_FIELD)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def reconfirmed(
    request: Request, session: Session, browser: BrowserSession, password: str
) -> AccountError | None:
    """`reconfirm` for the POST of a dangerous action: None when the password (or a recent
    login) confirms who acts; else the refusal for the page to show, committed first, since a
    wrong password counts towards the login limits."""
    try:
        reconfirm(get_accounts(request), session, browser, password=password, ip=client_ip(request))
    except AccountError as exc:
        session.commit()
        return exc
    return None


def errors_of(exc: AccountError) -> dict[str, str]:
    """Form errors by field ("form" for the whole form), as message keys."""
    return {exc.field or "form": exc.message_key}


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def message_page(
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
