"""One-time tokens: e-mail links (verification, password reset) and desk activation codes.

Links carry `secrets.token_urlsafe(32)` (256 bits); activation codes are 12 characters from
an alphabet without look-alikes (about 59 bits), typed by hand and valid for a limited time.
Only SHA-256 hashes are stored. Consuming is one conditional UPDATE (`used_at IS NULL`, not
expired) whose row count decides, so two concurrent requests can never both succeed, on
PostgreSQL as on SQLite.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from core import rowcount, token_hash, utcnow
from identity.accounts.errors import InvalidToken
from identity.accounts.models import AccountToken, TokenPurpose

# no 0/O, 1/I/L: codes are read from paper and typed in
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CODE_GROUP = 4
MAX_TOKEN_INPUT = 256


def new_activation_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def normalize_code(typed: str) -> str:
    """Accept codes typed with spaces, dashes or in lower case."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t")


def issue(
    session: Session,
    account_id: str,
    purpose: TokenPurpose,
    ttl: dt.timedelta,
    raw: str | None = None,
) -> str:
    """Store a new token for the account and return its raw value (to mail or print).
    Earlier unused tokens of the same purpose are voided: only the newest link works."""
    now = utcnow()
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.account_id == account_id,
            AccountToken.purpose == purpose.value,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if raw is None:
        raw = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            token_hash=_stored_hash(raw, purpose),
            purpose=purpose.value,
            account_id=account_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    session.flush()
    return raw


def issued_since(
    session: Session, account_id: str, purpose: TokenPurpose, since: dt.datetime
) -> bool:
    """Whether a still-unused token of this purpose was issued after `since` (to avoid
    flooding a mailbox with links when someone keeps asking)."""
    found = session.scalar(
        select(AccountToken.token_hash)
        .where(
            AccountToken.account_id == account_id,
            AccountToken.purpose == purpose.value,
            AccountToken.used_at.is_(None),
            AccountToken.created_at > since,
        )
        .limit(1)
    )
    return found is not None


def _stored_hash(raw: str, purpose: TokenPurpose) -> str:
    return token_hash(normalize_code(raw) if purpose is TokenPurpose.ACTIVATION else raw)


def _usable(stored_hash: str, purpose: TokenPurpose, now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        AccountToken.token_hash == stored_hash,
        AccountToken.purpose == purpose.value,
        AccountToken.used_at.is_(None),
        AccountToken.expires_at > now,
    )


def peek(session: Session, purpose: TokenPurpose, raw: str) -> str | None:
    """The account a still-usable token belongs to, without using it up."""
    if not raw or len(raw) > MAX_TOKEN_INPUT:
        return None
    usable = _usable(_stored_hash(raw, purpose), purpose, utcnow())
    return session.scalar(select(AccountToken.account_id).where(usable))


def consume(session: Session, purpose: TokenPurpose, raw: str) -> str:
    """Use the token up and return its account id; `InvalidToken` if it is unknown, expired
    or already used. The caller commits (or rolls back, which restores the token)."""
    if not raw or len(raw) > MAX_TOKEN_INPUT:
        raise InvalidToken()
    stored_hash = _stored_hash(raw, purpose)
    now = utcnow()
    result = session.execute(
        update(AccountToken).where(_usable(stored_hash, purpose, now)).values(used_at=now)
    )
    if rowcount(result) != 1:
        raise InvalidToken()
    account_id = session.scalar(
        select(AccountToken.account_id).where(AccountToken.token_hash == stored_hash)
    )
    if account_id is None:  # pragma: no cover - the row was updated a moment ago
        raise InvalidToken()
    return account_id
