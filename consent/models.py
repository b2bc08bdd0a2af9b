"""Tables of the consent package."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class AuditEntry(Base):
    """One append-only audit log entry and RFC 9162 leaf.

    `idx` is the 0-based leaf index (dense, no gaps), `entry` the exact canonical JSON bytes
    that were hashed, `leaf_hash` = SHA-256(0x00 || entry). Tree heads, proofs and signed
    checkpoints are computed from `leaf_hash` in index order.
    """

    __tablename__ = "audit_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    event: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(160))
    subject_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class ConsentRecord(Base):
    """Consent for one field, to one platform, for one purpose (GDPR Art. 6(1)(a), 7).

    The record itself never changes after creation: its state is its latest event, and
    withdrawal is a new event (`ConsentEvent`), never an edit."""

    __tablename__ = "consent_records"
    __table_args__ = (
        UniqueConstraint("account_id", "client_id", "claim", "purpose", name="uq_consent_scope"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    claim: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(200))
    purpose_description: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(String(32), default="gdpr:6-1-a")
    notice_ref: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="nl")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ConsentEvent(Base):
    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(
        ForeignKey("consent_records.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(16))  # given | refused | withdrawn | expired
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(160))
    method: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed tree head: a C2SP tlog-checkpoint over the first `tree_size` entries, signed
    as a C2SP signed note (Ed25519). Stewards keep copies; `kluis audit verify` checks every
    stored one against the entries, so rewriting history shows."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ErasureRequest(Base):
    """A GDPR Art. 17 erasure request and its lifecycle: received → executing → propagating →
    completed, or overdue when a platform has not acknowledged by `due_at` (Art. 12(3): one
    month). Holds no personal data: the resident is named only by the opaque audit reference
    computed before their data key was destroyed, and `reason` is refused if it looks like
    personal data."""

    __tablename__ = "erasure_requests"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'executing', 'propagating', 'completed', 'overdue')",
            name="status_known",
        ),
        CheckConstraint("requested_by IN ('resident', 'operator')", name="requested_by_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject_ref: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(160))
    reason: Mapped[str] = mapped_column(Text, default="")
    # None: the whole account; else one field (`name`, or an attestation type such as
    # `postcode`): see consent/field_erasure.py
    field: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    executed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ErasureDelivery(Base):
    """Which outbox delivery tells which platform about which erasure request, and when the
    platform acknowledged it (a 2xx answer). A platform Kluis cannot tell automatically (it
    registered no `events_uri`) gets a `manual` link with no delivery behind it: it stays open
    until an operator records how the platform was told (`handled_by`, `note`)."""

    __tablename__ = "erasure_deliveries"

    delivery_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("erasure_requests.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(160))
    note: Mapped[str | None] = mapped_column(String(500))
