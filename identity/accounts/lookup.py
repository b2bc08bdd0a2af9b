"""What the operator console (#16) may know of an account: found by an exact e-mail address,
username (handle) or account id, never by listing or partial match, and described without
personal data: its state, roles, and whether it has an e-mail address and a password (an
account made at the desk for someone without e-mail has neither until it is activated)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.accounts.errors import InvalidEmail
from identity.accounts.models import Account, AccountRole
from identity.accounts.service import (
    HANDLE_PATTERN,
    Accounts,
    find_by_email,
    get_account,
    normalize_email,
)

ACCOUNT_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclasses.dataclass(frozen=True)
class AccountState:
    account_id: str
    handle: str
    status: str  # active, pending_activation, disabled
    roles: tuple[str, ...]
    has_email: bool
    has_password: bool
    created_at: dt.datetime


def find_account_exactly(accounts: Accounts, session: Session, identifier: str) -> Account | None:
    """The account whose e-mail address, username or id is exactly `identifier` (e-mail
    addresses compared as normalised), or None."""
    who = identifier.strip()
    if "@" in who:
        try:
            return find_by_email(accounts, session, normalize_email(who))
        except InvalidEmail:
            return None
    if HANDLE_PATTERN.match(who.lower()):
        return session.scalar(select(Account).where(Account.handle == who.lower()))
    if ACCOUNT_ID.match(who):
        return get_account(session, who)
    return None


def account_state(session: Session, account: Account) -> AccountState:
    roles = session.scalars(
        select(AccountRole.role)
        .where(AccountRole.account_id == account.id)
        .order_by(AccountRole.role)
    )
    return AccountState(
        account_id=account.id,
        handle=account.handle,
        status=account.status,
        roles=tuple(roles),
        has_email=account.email_index is not None,
        has_password=account.password_hash is not None,
        created_at=account.created_at,
    )
