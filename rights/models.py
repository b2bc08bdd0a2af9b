"""Tables of the residents' rights: erasure requests and their delivery to each platform."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime


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
    # `postcode`): see rights/field_erasure.py
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


class LapseMail(Base):
    """The e-mail owed to a resident whose peer `real_person` attestation ended
    (rights/vouching_mail.py), until it has been sent: what it says (the reason, when, in which
    language), never the address, which is read again from the account at each attempt, so
    that an erased resident is mailed nothing. One row per resident: a later lapse replaces
    an unsent one."""

    __tablename__ = "vouching_lapse_mails"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    lapsed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
