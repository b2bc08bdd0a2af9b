"""Tables of the accounts package.

Personal data is stored only encrypted under the resident's own data key (`keys.SubjectKeys`):
the e-mail address and name. Lookup by e-mail goes through a keyed blind index, so the table
alone does not reveal who has an account. One-time tokens and session ids are stored only as
SHA-256 hashes: a copy of the database cannot be used to log in or reset a password.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    PENDING_ACTIVATION = "pending_activation"  # created at the desk, no password yet
    DISABLED = "disabled"


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose label, not a password)
    ACTIVATION = "activation"


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'pending_activation', 'disabled')", name="status_known"
        ),
    )

    # uuid4 hex: also the subject id of the resident's data key
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # HMAC-SHA256 of the normalised address under a purpose-derived key; NULL without e-mail
    email_index: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # neutral generated username ("bewoner-k3x9qp"): never derived from personal data
    handle: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(24), default=AccountStatus.ACTIVE.value)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AccountToken(Base):
    """A one-time token sent by mail (verification, reset) or handed out at the desk
    (activation code). Consumed by setting `used_at` in one conditional UPDATE."""

    __tablename__ = "account_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(24))
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class BrowserSessionRecord(Base):
    """A resident's login in one browser. The cookie holds the session id; only its SHA-256
    hash is stored."""

    __tablename__ = "browser_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    auth_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    amr: Mapped[list[str]] = mapped_column(JSON)
    acr: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """One failed login, counted per account identifier and per client IP (both as keyed
    hashes) within a sliding window. Shared by every app process through the database.
    Scope `wallet_start` counts starts of logins by QR per client IP the same way."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_lookup", "scope", "key_hash", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class AccountRole(Base):
    """A role an operator granted to an account (`kluis accounts steward grant`). Residents
    have none; `steward` lets a data steward read the audit log, erasure and consent
    overviews (never personal data). Removed with the account."""

    __tablename__ = "account_roles"
    __table_args__ = (
        CheckConstraint("role IN ('steward', 'desk', 'operator')", name="role_known"),
    )

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[str] = mapped_column(String(160))


class PersonLink(Base):
    """One account per person: the account of a resident who proved who they are at the
    municipality's DigiD broker, with a keyed hash of their BSN (`identity.accounts.person`).
    The BSN itself is never stored; erasing the account removes the link."""

    __tablename__ = "person_links"

    account_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    person_ref: Mapped[str] = mapped_column(String(64), unique=True)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
