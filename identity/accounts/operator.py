"""Who may use the operator console (/console), decided here only.

An operator is an active account holding the `operator` role (`kluis accounts operator
grant`), reached through the browser session; the role is read afresh on every request, so
revoking it ends access at once. A visitor who is not logged in is sent to the login page;
anyone else gets the same 404 as for a path that does not exist. Operators act in the audit
log as `operator:<their audit reference>`, never by name (the CLI acts as `operator:cli`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import NotFound, render, when
from identity.accounts.errors import AccountError, LoginThrottled, PasswordMissing
from identity.accounts.models import Account
from identity.accounts.roles import OPERATOR_ROLE, has_role
from identity.accounts.sessions import current_session
from identity.accounts.web import reconfirmed
from keys import SubjectKeys


class NotAnOperator(NotFound):
    """What someone without the operator role sees: indistinguishable from an unknown path."""

    def __init__(self) -> None:
        super().__init__("Not Found")


def page_operator(request: Request, session: Session, path: str) -> str | Response:
    """The operator's account id; a redirect to the login page for a visitor who is not
    logged in; `NotAnOperator` for everyone else."""
    browser = current_session(request, session)
    if browser is None:
        return RedirectResponse("/login?" + urlencode({"return_to": path}, safe="/"), 303)
    if not has_role(session, browser.account_id, OPERATOR_ROLE):
        raise NotAnOperator()
    return browser.account_id


def operator_actor(session: Session, subject_keys: SubjectKeys, account_id: str) -> str:
    """The opaque audit actor of a console operator."""
    return f"operator:{subject_keys.reference(session, account_id)}"


def console_page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A console page: never cached (some show a secret once)."""
    response = render(request, template, {"when": when, **context}, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def confirm_again(request: Request, session: Session, password: str) -> AccountError | None:
    """Before a dangerous action: the operator's password again, or a login of the last minutes
    (`reconfirm`). A failure is committed, since it counts towards the login limits."""
    browser = current_session(request, session)
    if browser is None:
        raise NotAnOperator()
    return reconfirmed(request, session, browser, password)


def reconfirm_errors(
    error: AccountError | None, *, wrong_message: str, stale_message: str
) -> dict[str, str]:
    """The form errors of a refused `reconfirm` on a page of operators or stewards, by field:
    too many attempts, no password typed, a wrong one (`wrong_message`, the page's own
    words), or a login too old (`stale_message`); none when `error` is None."""
    if isinstance(error, LoginThrottled):
        return {"form": error.message_key}
    if isinstance(error, PasswordMissing):
        return {"password": "accounts.error.password_missing"}
    if error is not None and error.field == "password":
        return {"password": wrong_message}
    if error is not None:
        return {"form": stale_message}
    return {}


def reconfirm_context(
    session: Session, account_id: str, error: AccountError | None
) -> tuple[dict[str, Any], int]:
    """The reconfirm step's part of a page (`rights/_reconfirm.html`) and its HTTP status."""
    account = session.get(Account, account_id)
    errors = reconfirm_errors(
        error, wrong_message="console.error.password", stale_message="console.error.fresh_login"
    )
    status = 200 if not errors else 429 if isinstance(error, LoginThrottled) else 400
    needs_password = account is not None and account.password_hash is not None
    return {"errors": errors, "needs_password": needs_password}, status
