"""Who may act as a data steward, decided in these few functions only.

A steward is an active account holding the `steward` role (identity.accounts.roles), reached
either through the browser session (pages and API) or, for the API only, through an OAuth
access token (RFC 6750 bearer) whose scope includes `steward`. Kluis grants that scope only to
accounts with the role (identity.oidc.authorize.issue_code), and the role is checked again on
every request, so revoking it ends access at once, also for tokens issued before.

Anyone else gets the same 404 as for a path that does not exist: the steward area never tells
an outsider whether a log entry, request or the area itself exists. Every successful steward
read is audited (`steward.read`) in the same transaction as the read.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from fastapi import Request
from sqlalchemy.orm import Session

from audit import record
from core import NotFound
from identity import STEWARD, STEWARD_SCOPE, active_token, current_session, has_role
from keys import SubjectKeys

Via = Literal["session", "token"]


@dataclasses.dataclass(frozen=True)
class Steward:
    account_id: str
    via: Via


class NotAvailable(NotFound):
    """What a non-steward sees: indistinguishable from an unknown path."""

    def __init__(self) -> None:
        super().__init__("Not Found")


def bearer_token(request: Request) -> str | None:
    """The RFC 6750 §2.1 bearer token of the Authorization header, if any."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    token = header[7:].strip()
    return token or None


def steward_by_token(session: Session, token: str) -> Steward | None:
    """A live access token with scope `steward` whose account (still) holds the role."""
    found = active_token(session, token, "access")
    if found is None:
        return None
    row, grant = found
    if STEWARD_SCOPE not in row.scope.split() or not has_role(session, grant.account_id, STEWARD):
        return None
    return Steward(grant.account_id, "token")


def steward_by_session(request: Request, session: Session) -> Steward | None:
    """The logged-in browser's account, if it holds the role."""
    browser = current_session(request, session)
    if browser is None or not has_role(session, browser.account_id, STEWARD):
        return None
    return Steward(browser.account_id, "session")


def api_steward(request: Request, session: Session) -> Steward:
    """The API caller as a steward, or 404. A bearer token, when sent, is the only credential
    considered (a bad token never falls back to the cookie)."""
    token = bearer_token(request)
    steward = (
        steward_by_token(session, token)
        if token is not None
        else steward_by_session(request, session)
    )
    if steward is None:
        raise NotAvailable()
    return steward


def page_steward(request: Request, session: Session) -> Steward:
    """The page visitor as a steward (browser session only), or 404."""
    steward = steward_by_session(request, session)
    if steward is None:
        raise NotAvailable()
    return steward


def audit_read(
    session: Session,
    subject_keys: SubjectKeys,
    steward: Steward,
    what: str,
    details: dict[str, object] | None = None,
) -> None:
    """Record that a steward read something (the log audits its own readers)."""
    actor = f"steward:{subject_keys.reference(session, steward.account_id)}"
    record(
        session, "steward.read", actor, None, {"what": what, "via": steward.via, **(details or {})}
    )
