"""Accounts made at a desk by an operator, and their activation by the resident.

A resident without e-mail (or without a password yet) gets an account in state
`pending_activation` and a one-time activation code on paper. At `/activate` they choose a
password (and may add an e-mail address); from then on they log in with their address or
their generated username. Addresses given at the desk count as verified: the operator saw
the resident.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from audit import record
from core import utcnow
from identity.accounts import mails, tokens
from identity.accounts.errors import AccountError, InvalidActivationCode
from identity.accounts.models import Account, AccountStatus, TokenPurpose
from identity.accounts.passwords import check_policy
from identity.accounts.service import (
    Accounts,
    account_email,
    create_account,
    find_by_email,
    get_account,
    normalize_email,
    normalize_name,
    send_verification,
)


class DeskInputError(AccountError):
    """The operator's input cannot make an account (the message is for the operator)."""


@dataclasses.dataclass(frozen=True)
class DeskAccount:
    account_id: str
    handle: str
    status: str
    email_verified: bool
    activation_code: str | None = None
    activation_expires_at: dt.datetime | None = None


def create_desk_account(
    accounts: Accounts,
    session: Session,
    *,
    email: str | None,
    password: str | None,
    name: str | None,
    actor: str = "operator:cli",
) -> DeskAccount:
    """Create an account for a resident at the desk. Without a password it waits for
    activation and an activation code is returned (shown once, stored only hashed)."""
    name = normalize_name(name)
    if email is None and name is None:
        raise DeskInputError("a name is required for an account without e-mail address")
    if email is not None:
        email = normalize_email(email)
        if find_by_email(accounts, session, email) is not None:
            raise DeskInputError("an account with this e-mail address already exists")
    if password is not None:
        check_policy(password, email=email)
    account = create_account(
        accounts,
        session,
        email=email,
        name=name,
        password_hash=accounts.passwords.hash(password) if password is not None else None,
        status=AccountStatus.ACTIVE if password is not None else AccountStatus.PENDING_ACTIVATION,
        email_verified=email is not None,
    )
    ref = accounts.subject_ref(session, account.id)
    record(session, "account.registered", actor, ref, {"channel": "desk"})
    if password is not None:
        return DeskAccount(account.id, account.handle, account.status, account.email_verified)
    code = tokens.issue(
        session,
        account.id,
        TokenPurpose.ACTIVATION,
        accounts.activation_ttl,
        raw=tokens.new_activation_code(),
    )
    return DeskAccount(
        account.id,
        account.handle,
        account.status,
        account.email_verified,
        activation_code=code,
        activation_expires_at=utcnow() + accounts.activation_ttl,
    )


def activate_account(
    accounts: Accounts,
    session: Session,
    *,
    code: str,
    password: str,
    email: str | None,
    lang: str,
    ip: str,
) -> Account:
    """Set the first password with an activation code. An e-mail address given here is used
    only if the account has none yet; it must be confirmed by link before login by address.
    Everything is checked before the code is used up, so a typo does not burn it.

    Every typed code is counted against `ip` and COMMITTED before it is looked up, and given
    back only if it was right (`LoginLimiter.reserve_code_guess`): the limit on guesses holds
    exactly under bursts. The caller commits after an error too."""
    reservation = accounts.limiter.reserve_code_guess(session, ip)  # or LoginThrottled
    session.commit()
    account_id = tokens.peek(session, TokenPurpose.ACTIVATION, code)
    account = get_account(session, account_id) if account_id else None
    if account is None or account.status != AccountStatus.PENDING_ACTIVATION.value:
        raise InvalidActivationCode()
    accounts.limiter.release(session, reservation)
    known_email = account_email(session, accounts.subject_keys, account)
    new_email = normalize_email(email) if email and known_email is None else None
    check_policy(password, email=known_email or new_email)
    try:
        tokens.consume(session, TokenPurpose.ACTIVATION, code)
    except AccountError as exc:
        raise InvalidActivationCode() from exc
    account.password_hash = accounts.passwords.hash(password)
    account.status = AccountStatus.ACTIVE.value
    ref = accounts.subject_ref(session, account.id)
    record(session, "account.activated", "resident", ref)
    if new_email is not None:
        _attach_email(accounts, session, account, new_email, lang)
    session.flush()
    return account


def _attach_email(
    accounts: Accounts, session: Session, account: Account, email: str, lang: str
) -> None:
    if find_by_email(accounts, session, email) is not None:
        # Taken: do not say so on the page; tell the address's owner instead.
        mails.send_already_registered(accounts.mailer, email, accounts.issuer, lang)
        return
    account.email_index = accounts.email_index(email)
    account.email_enc = accounts.subject_keys.encrypt(session, account.id, "email", email)
    account.email_verified = False
    session.flush()
    send_verification(accounts, session, account, email, lang)
