"""Password login and local logout.

The checks of a login, in order:
1. throttle: too many recent failures for this identifier or this IP → `LoginThrottled`;
2. lookup: the account named by the e-mail address or handle (may be none);
3. password: verified against the account's hash, or a dummy hash when there is no usable
   account, so every failure costs the same time → `InvalidCredentials` (one error for all);
4. verified address: logging in by e-mail needs a confirmed address → `EmailNotVerified`
   (and a fresh link), which stops pre-registration of someone else's address;
5. session: the browser's previous session ends (no fixation) and a new one starts.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from audit import record
from core import utcnow
from identity.accounts.errors import (
    EmailNotVerified,
    FreshLoginRequired,
    InvalidCredentials,
    PasswordMissing,
    WrongPassword,
)
from identity.accounts.models import Account, AccountStatus, TokenPurpose
from identity.accounts.service import (
    HANDLE_PATTERN,
    Accounts,
    account_email,
    find_by_identifier,
    get_account,
    send_verification,
)
from identity.accounts.sessions import (
    AMR_PASSWORD,
    BrowserSession,
    end_browser_session,
    find_browser_session,
    public_sid,
    start_browser_session,
)

# an account without a password confirms an irreversible action by a login this recent
RECONFIRM_WINDOW = dt.timedelta(minutes=10)
MAX_RETURN_TO = 2048
MAX_IDENTIFIER = 254
# ASCII controls, space and backslash: browsers strip or reinterpret them (`/\evil`, `/\t/x`)
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x20\x7f\\]")


def safe_return_to(value: str | None, default: str = "/") -> str:
    """A local path to go to after login, or `default`. Only a path beginning with exactly
    one "/" is kept: no scheme, no host, no "//host", nothing a browser could read as another
    origin (no open redirect)."""
    if not value or len(value) > MAX_RETURN_TO:
        return default
    if not value.startswith("/") or value.startswith("//") or _UNSAFE_IN_PATH.search(value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def normalize_identifier(value: str) -> str:
    return value.strip().lower()[:MAX_IDENTIFIER]


def log_in(
    accounts: Accounts,
    session: Session,
    *,
    identifier: str,
    password: str,
    ip: str,
    lang: str,
    previous_sid: str | None = None,
    return_to: str | None = None,
) -> BrowserSession:
    """Authenticate with a password and start a browser session. The attempt is counted and
    COMMITTED before the password is checked (so the limits hold under bursts, see
    `ratelimit`); the caller commits the rest in both cases."""
    identifier = normalize_identifier(identifier)
    limiter = accounts.limiter
    reservation = limiter.reserve(session, identifier, ip)  # or LoginThrottled
    session.commit()

    account = find_by_identifier(accounts, session, identifier)
    password_hash = (
        account.password_hash
        if account is not None and account.status == AccountStatus.ACTIVE.value
        else None
    )
    # verify first, always: without a hash it checks a dummy so that failures take as long
    if not accounts.passwords.verify(password_hash, password) or account is None:
        _audit_failure(accounts, session, account)  # the reservation stays: a failure
        raise InvalidCredentials()
    assert password_hash is not None  # verify() says no without a hash
    limiter.release(session, reservation)
    if not HANDLE_PATTERN.match(identifier) and not account.email_verified:
        email = account_email(session, accounts.subject_keys, account)
        if email is not None and not accounts.recently_mailed(
            session, account.id, TokenPurpose.VERIFY_EMAIL
        ):
            send_verification(accounts, session, account, email, lang, return_to)
        raise EmailNotVerified()

    if accounts.passwords.needs_rehash(password_hash):
        account.password_hash = accounts.passwords.hash(password)
    limiter.clear_account(session, identifier)
    end_previous_session(accounts, session, previous_sid)
    browser = start_browser_session(
        session, account.id, ttl=accounts.session_ttl, amr=[AMR_PASSWORD]
    )
    ref = accounts.subject_ref(session, account.id)
    record(session, "login.succeeded", "resident", ref, {"amr": browser.amr})
    return browser


def reconfirm(
    accounts: Accounts, session: Session, browser: BrowserSession, *, password: str, ip: str
) -> None:
    """Before an irreversible action (deleting the account, erasing a field): the password
    once more, so that a browser left logged in is not enough. The attempt counts towards the
    login limits like a login does (committed before the check). An account without a
    password must have logged in within RECONFIRM_WINDOW instead."""
    account = get_account(session, browser.account_id)
    if account is None or account.status != AccountStatus.ACTIVE.value:
        raise InvalidCredentials()
    if account.password_hash is None:
        if utcnow() - browser.auth_time > RECONFIRM_WINDOW:
            raise FreshLoginRequired()
        return
    if not password:  # nothing typed: no attempt to count
        raise PasswordMissing()
    reservation = accounts.limiter.reserve(session, account.handle, ip)  # or LoginThrottled
    session.commit()
    if not accounts.passwords.verify(account.password_hash, password):
        record(session, "reconfirm.failed", "resident", accounts.subject_ref(session, account.id))
        raise WrongPassword()
    accounts.limiter.release(session, reservation)


def end_previous_session(accounts: Accounts, session: Session, previous_sid: str | None) -> None:
    """A new login replaces the browser's session: what was granted in the old one ends
    with it (the hooks revoke grants and notify platforms), e.g. on a shared computer."""
    if not previous_sid:
        return
    previous = find_browser_session(session, previous_sid)
    end_browser_session(session, previous_sid, subject_keys=accounts.subject_keys)
    if previous is not None:
        for hook in accounts.session_end_hooks:
            hook(session, public_sid(previous.sid), previous.account_id)


def _audit_failure(accounts: Accounts, session: Session, account: Account | None) -> None:
    if account is None:
        # no subject: an unknown identifier must not become a reference to anyone
        record(session, "login.failed", "resident", None, {"reason": "unknown_account"})
        return
    reason = "wrong_password" if account.status == AccountStatus.ACTIVE.value else "not_active"
    ref = accounts.subject_ref(session, account.id)
    record(session, "login.failed", "resident", ref, {"reason": reason})


def log_out(accounts: Accounts, session: Session, sid: str | None) -> None:
    """End the browser session, then tell the session-end hooks (the OpenID provider revokes
    the session's grants and sends back-channel logout)."""
    current = find_browser_session(session, sid)
    if sid:
        end_browser_session(session, sid, subject_keys=accounts.subject_keys)
    if current is not None:
        for hook in accounts.session_end_hooks:
            hook(session, public_sid(current.sid), current.account_id)
