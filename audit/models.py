"""Tables of the audit log: its entries (RFC 9162 leaves) and signed checkpoints."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Index,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime


class AuditEntry(Base):
    """One append-only audit log entry and RFC 9162 leaf.

    `idx` is the 0-based leaf index (dense, no gaps), `entry` the exact canonical JSON bytes
    that were hashed, `leaf_hash` = SHA-256(0x00 || entry). Tree heads, proofs and signed
    checkpoints are computed from `leaf_hash` in index order.
    """

    __tablename__ = "audit_entries"
    # Entries are appended nearly in time order, so on PostgreSQL the stewards' time filter
    # uses a BRIN index (the least and greatest moment per range of table pages, summarised
    # as each range fills): a fraction of a b-tree's size and of its work per append
    # (migration 0026). SQLite has a b-tree.
    __table_args__ = (
        Index(
            "ix_audit_entries_created_at",
            "created_at",
            postgresql_using="brin",
            postgresql_with={"autosummarize": "on"},
        ),
    )

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(160))
    subject_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(Base):
    """A signed tree head: a C2SP tlog-checkpoint over the first `tree_size` entries, signed
    as a C2SP signed note (Ed25519). Stewards keep copies; `kluis audit verify` checks every
    stored one against the entries, so rewriting history shows."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
