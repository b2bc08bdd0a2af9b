"""Tables of letters with one-time codes.

A batch is one run of `kluis letters generate`: municipality, poll, validity. A code row keeps
only what the attestation and the paper vote need: the keyed hash of the code (never the code),
the postcode and its area, the CBS wijk/buurt code if the list gave one, and the keyed hash of
the full address for peer vouching's shared-address rule (`vouching.AddressHasher`); never a
house number or a street. Once redeemed, it names the account by the resident's opaque
reference (derived from their data key, so erasure makes it meaningless), never by account id.
A paper vote is a row per code, platform (sector) and poll, its primary key the arbiter of
"once".
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime


class LetterBatch(Base):
    __tablename__ = "letter_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    municipality_name: Mapped[str] = mapped_column(String(100))
    poll_id: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    letter_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LetterCode(Base):
    """One letter. Redeemed at most once (a conditional UPDATE of `redeemed_at`), by the
    account `account_ref` names; an account holds at most one letter per poll (`poll_scope`
    is the poll id, or "" for letters without a poll)."""

    __tablename__ = "letter_codes"
    __table_args__ = (
        UniqueConstraint("account_ref", "poll_scope", name="uq_letter_codes_account_poll"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[str] = mapped_column(
        ForeignKey("letter_batches.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    postcode: Mapped[str] = mapped_column(String(6))
    postcode_area: Mapped[str] = mapped_column(String(4), index=True)
    wijk_buurt: Mapped[str | None] = mapped_column(String(10))
    # HMAC of postcode, house number and addition under vouching's address key; recorded for
    # the redeeming account (`vouching.record_address_ref`). NULL for letters made before it
    address_ref: Mapped[str | None] = mapped_column(String(64))
    poll_scope: Mapped[str] = mapped_column(String(128), default="")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    account_ref: Mapped[str | None] = mapped_column(String(64))
    offer_id: Mapped[str | None] = mapped_column(String(32))
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LetterVote(Base):
    """A paper vote: the code was answered for this platform (sector) and poll, once."""

    __tablename__ = "letter_votes"

    letter_id: Mapped[str] = mapped_column(
        ForeignKey("letter_codes.id", ondelete="CASCADE"), primary_key=True
    )
    sector: Mapped[str] = mapped_column(String(255), primary_key=True)
    poll_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    voted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
