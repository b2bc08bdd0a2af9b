"""Who may use the operator console (/console), decided here only.

An operator is an active account holding the `operator` role (`kluis accounts operator
grant`), reached through the browser session; the role is read afresh on every request, so
revoking it ends access at once. A visitor who is not logged in is sent to the login page;
anyone else gets the same 404 as for a path that does not exist. Operators act in the audit
log as `operator:<their audit reference>`, never by name (the CLI acts as `operator:cli`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core import NotFound
from identity.accounts.roles import OPERATOR_ROLE, has_role
from identity.accounts.sessions import current_session
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
