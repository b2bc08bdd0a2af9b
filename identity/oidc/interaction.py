"""What an authorization request needs next: a login, a consent, or nothing (issue the code).

OIDC Core §3.1.2.3: `prompt=login` and `max_age` force a fresh authentication; `prompt=consent`
forces the consent screen; `prompt=none` turns any needed interaction into an error.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy.orm import Session

from consent.ledger import decided_claims
from core.errors import ConsentRequired, LoginRequired
from identity.oidc.authorize import AuthParams

# Clock skew tolerated between our own processes when comparing auth_time to request time.
AUTH_TIME_LEEWAY = dt.timedelta(seconds=1)


class Step(enum.Enum):
    LOGIN = "login"
    CONSENT = "consent"
    ISSUE = "issue"


def needs_login(
    p: AuthParams,
    auth_time: dt.datetime | None,
    requested_at: dt.datetime,
) -> bool:
    if auth_time is None:
        return True
    if auth_time + AUTH_TIME_LEEWAY >= requested_at:
        return False  # authenticated during this very request: fresh by any measure
    if "login" in p.prompt:
        return True
    # OIDC Core §3.1.2.1: max_age counts from the request, so max_age=0 acts as prompt=login
    # and a slow resident does not loop back to the login page.
    return p.max_age is not None and requested_at - auth_time > dt.timedelta(seconds=p.max_age)


def needs_consent(session: Session, p: AuthParams, account_id: str, consented: bool) -> bool:
    if consented:
        return False
    if "consent" in p.prompt:
        return True
    undecided = p.claims.all - decided_claims(session, account_id, p.client.client_id)
    return bool(undecided)


def next_step(
    session: Session,
    p: AuthParams,
    *,
    account_id: str | None,
    auth_time: dt.datetime | None,
    requested_at: dt.datetime,
    consented: bool = False,
) -> Step:
    if account_id is None or needs_login(p, auth_time, requested_at):
        if "none" in p.prompt:
            raise LoginRequired("the resident is not logged in")
        return Step.LOGIN
    if needs_consent(session, p, account_id, consented):
        if "none" in p.prompt:
            raise ConsentRequired("the resident has not consented to the requested claims")
        return Step.CONSENT
    return Step.ISSUE
