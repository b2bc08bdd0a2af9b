"""What an authorization request needs next: a login, a consent, or nothing (issue the code).

OIDC Core §3.1.2.3: `prompt=login` and `max_age` force a fresh authentication; `prompt=consent`
forces the consent screen; `prompt=none` turns any needed interaction into an error. A session
whose `acr` is weaker than the request asks (`acr_values`, essential `acr` claim) needs a new
login too.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy.orm import Session

from core.errors import ConsentRequired, LoginRequired
from identity.accounts.sessions import ACR_PASSWORD
from identity.oidc.authorize import AuthParams
from identity.oidc.poll import decided_for
from identity.oidc.provider import SUPPORTED_ACRS

# Clock skew tolerated between our own processes when comparing auth_time to request time.
AUTH_TIME_LEEWAY = dt.timedelta(seconds=1)


class Step(enum.Enum):
    LOGIN = "login"
    CONSENT = "consent"
    ISSUE = "issue"


def acr_satisfies(acr: str | None, required: list[str]) -> bool:
    """Whether a session's `acr` meets the request's: an equal or stronger context
    (`SUPPORTED_ACRS` is ordered weakest first; attested login satisfies a password one)."""
    if not required:
        return True
    if acr not in SUPPORTED_ACRS:
        return False
    return SUPPORTED_ACRS.index(acr) >= min(SUPPORTED_ACRS.index(v) for v in required)


def wallet_required(required: list[str]) -> bool:
    """Only an attested (wallet) login satisfies the request: the login page opens in wallet
    mode."""
    return bool(required) and not acr_satisfies(ACR_PASSWORD, required)


def needs_login(
    p: AuthParams,
    auth_time: dt.datetime | None,
    requested_at: dt.datetime,
    acr: str | None = None,
) -> bool:
    if auth_time is None:
        return True
    if not acr_satisfies(acr, p.required_acr):
        return True  # however fresh: a password session cannot become an attested one
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
    # a poll the resident has not answered for is undecided, whatever other polls got
    undecided = p.claims.fields - decided_for(
        session, account_id, p.client.client_id, p.claims.poll_id
    )
    return bool(undecided)


def next_step(
    session: Session,
    p: AuthParams,
    *,
    account_id: str | None,
    auth_time: dt.datetime | None,
    requested_at: dt.datetime,
    consented: bool = False,
    acr: str | None = None,
) -> Step:
    if account_id is None or needs_login(p, auth_time, requested_at, acr):
        if "none" in p.prompt:
            raise LoginRequired("the resident is not logged in")
        return Step.LOGIN
    if needs_consent(session, p, account_id, consented):
        if "none" in p.prompt:
            raise ConsentRequired("the resident has not consented to the requested claims")
        return Step.CONSENT
    return Step.ISSUE
