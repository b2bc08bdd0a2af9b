"""Tables of the attestations package.

Issued credentials are kept as METADATA only (type, status list entry, dates): Kluis does not
remember what a credential said. Offered claims wait, encrypted under the resident's data key,
until the wallet collects them (minutes). Codes, tokens and nonces are stored as SHA-256 hashes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime


class StatusList(Base):
    """One Token Status List (draft-ietf-oauth-status-list). The bits are not stored: they are
    derived from `issued_credentials.revoked_at`, so revocations never race on a shared blob."""

    __tablename__ = "status_lists"
    __table_args__ = (CheckConstraint("bits IN (1, 2, 4, 8)", name="bits_allowed"),)

    # random, so list URIs reveal nothing about issuance order or volume
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bits: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class IssuedCredential(Base):
    """One issued SD-JWT VC. `account_id` is cleared on erasure; the row itself stays, so its
    status list index is never handed out again (no double allocation)."""

    __tablename__ = "issued_credentials"
    __table_args__ = (
        UniqueConstraint("status_list_id", "status_idx", name="uq_issued_credentials_status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    status_list_id: Mapped[str] = mapped_column(ForeignKey("status_lists.id"), index=True)
    status_idx: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str | None] = mapped_column(String(32))
    # the holder part of its poll pseudonyms when that is not the account: a credential from a
    # letter votes as the letter (`letter:<id>`, attestations.letters), one letter one vote
    pseudonym_holder: Mapped[str | None] = mapped_column(String(48))


class CredentialOffer(Base):
    """An OpenID4VCI credential offer with a pre-authorized code and a transaction code (PIN).
    Dies when used, expired, or after too many wrong PINs."""

    __tablename__ = "credential_offers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # SHA-256 of the unguessable reference in the credential_offer_uri
    ref_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    # both encrypted under the resident's data key (crypto-shredding removes them)
    claims_enc: Mapped[bytes] = mapped_column(LargeBinary)
    code_enc: Mapped[bytes] = mapped_column(LargeBinary)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tx_code_hash: Mapped[str] = mapped_column(String(64))
    failed_tx_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # copied to the credentials issued from this offer (`IssuedCredential.pseudonym_holder`)
    pseudonym_holder: Mapped[str | None] = mapped_column(String(48))


class VciAccessToken(Base):
    """An opaque access token for the credential endpoint, bound to one offer. Spent by the
    credential request it authorizes; revoked if its pre-authorized code is replayed."""

    __tablename__ = "vci_access_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    offer_id: Mapped[str] = mapped_column(
        ForeignKey("credential_offers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class VciNonce(Base):
    """A c_nonce from the nonce endpoint (OpenID4VCI §7): single-use, short-lived."""

    __tablename__ = "vci_nonces"

    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class MunicipalityLogin(Base):
    """A login at the municipality's DigiD broker under way (`attestations.municipality`):
    the state, nonce and PKCE verifier the callback is checked against, for minutes. Keyed by
    the hash of the state; taken (deleted) once, by the account that started it."""

    __tablename__ = "municipality_logins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the state
    account_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    pending: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
