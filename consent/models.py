"""Tables of the consent package."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, LargeBinary, String, Text
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
