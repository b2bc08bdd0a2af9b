"""Tables of the verifier: one row per OpenID4VP verification session.

Everything a session needs lives here, so any app process can serve any request (request
object, wallet response, status polling). The result JWT holds only the claims the platform
asked for, and is cleared once `result_expires_at` has passed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime

STATUSES = ("pending", "scanned", "done", "cancelled", "expired")


class VerifierSession(Base):
    __tablename__ = "verifier_sessions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'scanned', 'done', 'cancelled', 'expired')",
            name="status_allowed",
        ),
        # a platform's session names its client; Kluis's own login sessions name none
        CheckConstraint(
            "kind IN ('platform', 'login') AND (kind = 'login' OR client_id IS NOT NULL)",
            name="kind_allowed",
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey("oidc_clients.client_id", ondelete="CASCADE"), index=True
    )
    # "platform": asked by a relying party through the API; "login": Kluis's own login by QR
    kind: Mapped[str] = mapped_column(String(16), default="platform", server_default="platform")
    dcql_query: Mapped[dict[str, Any]] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    poll_id: Mapped[str | None] = mapped_column(String(128))
    # sent to the wallet in the request object: stored as they are, random and single-use
    nonce: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    scanned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(Text)
    result_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # a short code such as `wallet_access_denied` or `platform`, never personal data
    end_reason: Mapped[str | None] = mapped_column(String(64))
    # where Kluis's hosted verification page sends the resident back (same origin as one of
    # the platform's redirect URIs), if the platform gave one
    return_uri: Mapped[str | None] = mapped_column(Text)


class TrustedIssuer(Base):
    """An issuer besides Kluis whose SD-JWT VCs the verifier accepts, for the listed `vct`
    values only. Its keys come from a JWKS the operator gave (`source = 'jwks'`) or from its
    JWT VC Issuer Metadata (`source = 'metadata'`, SD-JWT VC §4), kept here and refreshed when
    a credential names a key id not yet seen."""

    __tablename__ = "verifier_trusted_issuers"
    __table_args__ = (CheckConstraint("source IN ('jwks', 'metadata')", name="source_allowed"),)

    iss: Mapped[str] = mapped_column(String(500), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    jwks: Mapped[dict[str, Any]] = mapped_column(JSON)
    vct_values: Mapped[list[str]] = mapped_column(JSON)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # when the keys were last refreshed because a credential named an unknown kid
    keys_fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class WalletLogin(Base):
    """A login by QR (cross-device OpenID4VP) started in one browser. The browser holds a
    random secret in a cookie; only its SHA-256 hash is stored, so only that browser can
    complete the login, once (`consumed_at` set in one conditional UPDATE)."""

    __tablename__ = "wallet_logins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    verifier_session_id: Mapped[str] = mapped_column(
        ForeignKey("verifier_sessions.id", ondelete="CASCADE"), unique=True
    )
    binding_hash: Mapped[str] = mapped_column(String(64))
    return_to: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
