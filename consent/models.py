"""Tables of the consent package."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime


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
