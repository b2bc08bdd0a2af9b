"""The authorization request's interaction (OIDC Core §3.1.2.3-§3.1.2.5): after the request
checks of `authorize.CHECKS`, a second table of checks decides what the request needs next —
a login, a consent, or nothing, in which case the code is issued — and `proceed` carries it
out. The router only turns the outcome into a redirect or a page.

`prompt=login` and `max_age` force a fresh authentication; `prompt=consent` forces the
consent screen; `prompt=none` turns any needed interaction into an error. A session whose
`acr` is weaker than the request asks (`acr_values`, essential `acr` claim) needs a new login.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from audit import record
from core import AccessDenied, ConsentRequired, LoginRequired, OAuthError, utcnow
from identity.accounts.sessions import ACR_PASSWORD, BrowserSession, public_sid
from identity.oidc.authorize import AuthParams, error_redirect, issue_code, save_pending
from identity.oidc.models import AuthorizationRequest
from identity.oidc.poll import decided_for, record_claims_decision
from identity.oidc.provider import SUPPORTED_ACRS, Provider

# Clock skew tolerated between our own processes when comparing auth_time to request time.
AUTH_TIME_LEEWAY = dt.timedelta(seconds=1)
OFFLINE = "offline_access"


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


@dataclasses.dataclass(frozen=True)
class Interaction:
    """What the interaction checks look at."""

    session: Session
    p: AuthParams
    browser: BrowserSession | None
    requested_at: dt.datetime
    consented: bool  # the resident answered the consent screen of this very request


def needs_login(i: Interaction) -> bool:
    browser, p = i.browser, i.p
    if browser is None:
        return True
    if not acr_satisfies(browser.acr, p.required_acr):
        return True  # however fresh: a password session cannot become an attested one
    if browser.auth_time + AUTH_TIME_LEEWAY >= i.requested_at:
        return False  # authenticated during this very request: fresh by any measure
    if "login" in p.prompt:
        return True
    # OIDC Core §3.1.2.1: max_age counts from the request, so max_age=0 acts as prompt=login
    # and a slow resident does not loop back to the login page.
    age = i.requested_at - browser.auth_time
    return p.max_age is not None and age > dt.timedelta(seconds=p.max_age)


def needs_consent(i: Interaction) -> bool:
    p = i.p
    if i.consented:
        return False
    if "consent" in p.prompt:
        return True
    assert i.browser is not None
    # a poll the resident has not answered for is undecided, whatever other polls got
    decided = decided_for(i.session, i.browser.account_id, p.client.client_id, p.claims.poll_id)
    return bool(p.claims.fields - decided)


def check_login(i: Interaction) -> Step | None:
    if not needs_login(i):
        return None
    if "none" in i.p.prompt:
        raise LoginRequired("the resident is not logged in")
    return Step.LOGIN


def check_consent(i: Interaction) -> Step | None:
    if not needs_consent(i):
        return None
    if "none" in i.p.prompt:
        raise ConsentRequired("the resident has not consented to the requested claims")
    return Step.CONSENT


INTERACTION_CHECKS: tuple[Callable[[Interaction], Step | None], ...] = (
    check_login,
    check_consent,  # after login: consent is the logged-in resident's
)


def next_step(i: Interaction) -> Step:
    for check in INTERACTION_CHECKS:
        step = check(i)
        if step is not None:
            return step
    return Step.ISSUE


@dataclasses.dataclass(frozen=True)
class Outcome:
    """`step` LOGIN or CONSENT: the request is stored as `pending` for the resident to go on
    with. `step` None: the client gets its answer (a code or an error) at `location`."""

    step: Step | None
    location: str = ""
    pending: AuthorizationRequest | None = None


def continue_path(pending: AuthorizationRequest) -> str:
    return f"/authorize/continue/{pending.id}"


def login_location(p: AuthParams, pending: AuthorizationRequest) -> str:
    """The login page, returning to the request, in wallet mode when only that satisfies it,
    with the hint and the first language Kluis speaks of `ui_locales`."""
    query = {"return_to": continue_path(pending)}
    if wallet_required(p.required_acr):
        query["mode"] = "wallet"
    if p.login_hint:
        query["login_hint"] = p.login_hint
    if p.ui_locales:
        lang = next((t for t in p.ui_locales.split() if t[:2] in ("nl", "en")), None)
        if lang:
            query["lang"] = lang[:2]
    return "/login?" + urlencode(query)


def proceed(
    session: Session,
    provider: Provider,
    p: AuthParams,
    browser: BrowserSession | None,
    pending: AuthorizationRequest | None,
    binding: Callable[[], str],
) -> Outcome:
    """Run the interaction checks and do what they ask: issue the code, or store the request
    (bound to the browser by `binding()`, a hash of its cookie) for a login or a consent.
    The caller commits."""
    if pending is not None and browser is not None and pending.account_id != browser.account_id:
        pending.account_id = browser.account_id  # so erasure finds the resident's requests
    interaction = Interaction(
        session,
        p,
        browser,
        requested_at=pending.created_at if pending else utcnow(),
        consented=bool(pending and pending.params.get("consented")),
    )
    try:
        step = next_step(interaction)
    except OAuthError as error:
        return Outcome(None, error_redirect(p, provider.config.issuer, error))
    if step is Step.ISSUE:
        assert browser is not None
        location = issue_code(
            session,
            provider,
            p,
            account_id=browser.account_id,
            sid=public_sid(browser.sid),
            auth_time=browser.auth_time,
            acr=browser.acr,
            amr=browser.amr,
        )
        if pending is not None:
            pending.completed_at = utcnow()
        return Outcome(None, location)
    if pending is None:
        account_id = browser.account_id if browser else None
        extra = {"binding": binding()}
        pending = save_pending(session, p, provider.config.request_ttl, extra, account_id)
    return Outcome(step, pending=pending)


def decide(
    session: Session,
    provider: Provider,
    p: AuthParams,
    pending: AuthorizationRequest,
    browser: BrowserSession,
    *,
    allow: bool,
    ticked: set[str],
    language: str,
) -> Outcome:
    """The resident's answer on the consent screen: a refusal ends the request with
    `access_denied`; otherwise each requested field is recorded as given (ticked or
    essential) or refused, `offline_access` as its own decision, and the request goes on.
    The caller commits."""
    subject_ref = provider.subject_keys.reference(session, browser.account_id)
    client_id = p.client.client_id
    if not allow:
        record(session, "consent.request_denied", "resident", subject_ref, {"client": client_id})
        pending.completed_at = utcnow()
        error = AccessDenied("the resident denied the request")
        return Outcome(None, error_redirect(p, provider.config.issuer, error))
    common = {
        "account_id": browser.account_id,
        "subject_ref": subject_ref,
        "client_id": client_id,
        "purpose_description": p.client.purpose,
        "language": language,
    }
    if OFFLINE in p.scopes:
        offline = OFFLINE in ticked
        record_claims_decision(
            session,
            poll_id=None,
            given=[OFFLINE] if offline else [],
            refused=[] if offline else [OFFLINE],
            purpose="offline-access",
            **common,
        )
        if not offline:
            p.scopes.discard(OFFLINE)
            pending.params = {**pending.params, "scopes": sorted(p.scopes)}
    given = (ticked & p.claims.fields) | p.claims.essential_fields
    record_claims_decision(
        session,
        poll_id=p.claims.poll_id,
        given=given,
        refused=p.claims.fields - given,
        **common,
    )
    pending.params = {**pending.params, "consented": True}
    return proceed(session, provider, p, browser, pending, binding=lambda: "")
