"""Tables of peer vouching ("Jan confirms that Klaas really is Klaas", issue 10).

The graph keeps NO personal data: residents appear only as account ids, every reference to an
account is a foreign key with ON DELETE CASCADE (or SET NULL where the row must outlive one
party: a report outlives its reporter, a suspension the report), so erasing an account removes
every edge it gave or got. Codes are stored only as SHA-256 hashes. The address rule works on
`VouchingAddress.address_ref`, a keyed hash (never the address itself; `config.address_ref`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core import Base, UTCDateTime

ACCOUNT = "accounts.id"


class ConfirmationRequest(Base):
    """ "Ask a neighbour to confirm me": a short-lived, single-use request of the vouchee,
    shown as a QR code (the token) and as a short code a voucher can type. Taken (closed) by
    the one confirmation or refusal it gets."""

    __tablename__ = "vouching_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    vouchee_id: Mapped[str] = mapped_column(ForeignKey(ACCOUNT, ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # who opened it: `resident`, or `desk:<opaque ref>` for a desk account without a phone
    opened_by: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Confirmation(Base):
    """One voucher's confirmation that they met the vouchee in person and know them by their
    name. Never deleted while both accounts exist: withdrawal sets `withdrawn_at`."""

    __tablename__ = "vouching_confirmations"
    __table_args__ = (
        CheckConstraint("voucher_id <> vouchee_id", name="not_self"),
        Index("ix_vouching_confirmations_vouchee", "vouchee_id", "created_at"),
        Index("ix_vouching_confirmations_voucher", "voucher_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    voucher_id: Mapped[str] = mapped_column(ForeignKey(ACCOUNT, ondelete="CASCADE"))
    vouchee_id: Mapped[str] = mapped_column(ForeignKey(ACCOUNT, ondelete="CASCADE"))
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("vouching_requests.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # a short code: `fake_voucher`, `erasure`
    withdrawn_reason: Mapped[str | None] = mapped_column(String(32))


class SeedVoucher(Base):
    """An operator's appointment of a seed voucher (desk staff, a community host), who may
    vouch without a `real_person` attestation of their own. History is kept (one row per
    appointment), so a confirmation counts if its voucher was a seed when they gave it."""

    __tablename__ = "vouching_seeds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey(ACCOUNT, ondelete="CASCADE"), index=True)
    appointed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    appointed_by: Mapped[str] = mapped_column(String(160))
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(160))


class FakeReport(Base):
    """A member's report that a profile is fake, and the steward's decision on it."""

    __tablename__ = "vouching_reports"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'fake', 'dismissed')", name="state_known"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # the report outlives an erased reporter, without naming them
    reporter_id: Mapped[str | None] = mapped_column(
        ForeignKey(ACCOUNT, ondelete="SET NULL"), index=True
    )
    reported_id: Mapped[str] = mapped_column(ForeignKey(ACCOUNT, ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey(ACCOUNT, ondelete="SET NULL"))


class Suspension(Base):
    """One offence of a voucher: they confirmed an account a steward found fake. Each row
    suspends them from vouching until `until`; every offence after the first also costs one
    confirmation slot for good (`VouchingRules.quota_for`)."""

    __tablename__ = "vouching_suspensions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    voucher_id: Mapped[str] = mapped_column(ForeignKey(ACCOUNT, ondelete="CASCADE"), index=True)
    report_id: Mapped[str | None] = mapped_column(
        ForeignKey("vouching_reports.id", ondelete="SET NULL")
    )
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PeerGrant(Base):
    """Kluis found that the account met the threshold at `granted_at` and offered it a
    `real_person` attestation with `verification: peer` (the offer `offer_id`). The grant lapses
    when its confirmations no longer meet the threshold (the cascade), which revokes the
    credentials issued from that offer. `expires_at` is the latest moment such a credential
    can still be valid."""

    __tablename__ = "vouching_grants"
    __table_args__ = (Index("ix_vouching_grants_account", "account_id", "granted_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey(ACCOUNT, ondelete="CASCADE"))
    # no foreign key: collected and expired offers are purged after a day, the grant stays
    offer_id: Mapped[str] = mapped_column(String(32), unique=True)
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    confirmations: Mapped[int] = mapped_column(Integer)  # how many counted at `granted_at`
    lapsed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # `below_threshold`, `fake`, `superseded`, `erasure`
    lapse_reason: Mapped[str | None] = mapped_column(String(32))
    # the page language the resident claimed it in (`nl`, `en`): the e-mail when it lapses
    # speaks it (NULL for grants made before it was kept: Dutch)
    language: Mapped[str | None] = mapped_column(String(8))


class VouchingAddress(Base):
    """The address a source established for the account, as a keyed hash of postcode and
    house number (`config.address_ref`): only ever compared for equality, by the shared-address
    rule. Sources MAY fill it when they know the house number; it counts only while the account
    holds a valid `postcode` attestation."""

    __tablename__ = "vouching_addresses"

    account_id: Mapped[str] = mapped_column(
        ForeignKey(ACCOUNT, ondelete="CASCADE"), primary_key=True
    )
    address_ref: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))  # `desk`, `letter`, `registry`
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
