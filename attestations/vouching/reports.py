"""Reports of fake profiles and the steward's decision, and the seed vouchers an operator
appoints. A report names the profile by account id inside Kluis; outside it (audit entries,
the steward's pages) only opaque references appear."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from attestations.vouching.cascade import CascadeOutcome, ClaimsListener, unmask
from attestations.vouching.config import VouchingConfig
from attestations.vouching.errors import ReportNotFound, ReportRefused
from attestations.vouching.grants import GRAPH_LOCK
from attestations.vouching.models import FakeReport, SeedVoucher
from audit import record
from core import InvalidInput, lock_named, rowcount, utcnow
from keys import SubjectKeys

OPEN, FAKE, DISMISSED = "open", "fake", "dismissed"
# open reports one member may have at a time (a member cannot flood the stewards)
OPEN_REPORTS_PER_MEMBER = 5


def report_fake(
    session: Session,
    subject_keys: SubjectKeys,
    *,
    reporter_id: str,
    reported_id: str,
    now: dt.datetime | None = None,
) -> str:
    """A member reports a profile as fake. One open report per reporter and profile; not
    oneself; at most `OPEN_REPORTS_PER_MEMBER` open at once. The caller commits."""
    moment = now or utcnow()
    if reporter_id == reported_id:
        raise ReportRefused("You cannot report yourself.")
    mine = select(func.count()).where(
        FakeReport.reporter_id == reporter_id, FakeReport.state == OPEN
    )
    if (session.scalar(mine) or 0) >= OPEN_REPORTS_PER_MEMBER:
        raise ReportRefused("You have too many open reports; a steward will look at them first.")
    existing = session.scalar(
        select(FakeReport.id).where(
            FakeReport.reporter_id == reporter_id,
            FakeReport.reported_id == reported_id,
            FakeReport.state == OPEN,
        )
    )
    if existing is not None:
        return existing
    row = FakeReport(
        id=uuid.uuid4().hex,
        reporter_id=reporter_id,
        reported_id=reported_id,
        state=OPEN,
        created_at=moment,
    )
    session.add(row)
    session.flush()
    record(
        session,
        "vouching.reported",
        "resident",
        subject_ref=subject_keys.reference(session, reported_id),
        details={"report": row.id, "reporter": subject_keys.reference(session, reporter_id)},
    )
    return row.id


@dataclass(frozen=True)
class Decision:
    report_id: str
    fake: bool
    outcome: CascadeOutcome


def decide(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    report_id: str,
    steward_id: str,
    fake: bool,
    listener: ClaimsListener | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """A steward decides an open report. Found fake: the account is unmasked (`cascade.unmask`)
    and every other open report on it is decided with it. Dismissed: nothing else changes.
    `ReportNotFound` if the report is unknown or decided already. The caller commits."""
    moment = now or utcnow()
    lock_named(session, GRAPH_LOCK)
    row = session.get(FakeReport, report_id)
    if row is None or row.state != OPEN:
        raise ReportNotFound()
    reported = row.reported_id
    targets = [FakeReport.id == report_id]
    if fake:  # every open report on the account is decided by this one
        targets = [FakeReport.reported_id == reported]
    decided = session.execute(
        update(FakeReport)
        .where(*targets, FakeReport.state == OPEN)
        .values(state=FAKE if fake else DISMISSED, decided_at=moment, decided_by=steward_id)
        .execution_options(synchronize_session=False)
    )
    if rowcount(decided) < 1:
        raise ReportNotFound()
    actor = f"steward:{subject_keys.reference(session, steward_id)}"
    record(
        session,
        "vouching.report_decided",
        actor,
        subject_ref=subject_keys.reference(session, reported),
        details={"report": report_id, "decision": FAKE if fake else DISMISSED},
    )
    outcome = CascadeOutcome()
    if fake:
        outcome = unmask(
            session,
            subject_keys,
            config,
            fake_id=reported,
            report_id=report_id,
            actor=actor,
            now=moment,
            listener=listener,
        )
    return Decision(report_id, fake, outcome)


# --- seed vouchers ---------------------------------------------------------------------------


def is_seed(session: Session, account_id: str) -> bool:
    found = session.scalar(
        select(SeedVoucher.id)
        .where(SeedVoucher.account_id == account_id, SeedVoucher.removed_at.is_(None))
        .limit(1)
    )
    return found is not None


def appoint_seed(
    session: Session,
    subject_keys: SubjectKeys,
    *,
    account_id: str,
    actor: str,
    now: dt.datetime | None = None,
) -> bool:
    """Appoint a seed voucher (idempotent: False if they are one already). The caller
    commits."""
    moment = now or utcnow()
    lock_named(session, GRAPH_LOCK)
    if is_seed(session, account_id):
        return False
    if session.scalar(
        select(FakeReport.id).where(FakeReport.reported_id == account_id, FakeReport.state == FAKE)
    ):
        raise InvalidInput("This account was found fake and cannot vouch.")
    session.add(
        SeedVoucher(
            id=uuid.uuid4().hex, account_id=account_id, appointed_at=moment, appointed_by=actor
        )
    )
    session.flush()
    record(
        session,
        "vouching.seed_appointed",
        actor,
        subject_ref=subject_keys.reference(session, account_id),
    )
    return True


def remove_seed(
    session: Session,
    subject_keys: SubjectKeys,
    *,
    account_id: str,
    actor: str,
    now: dt.datetime | None = None,
) -> bool:
    """End a seed appointment (False if there was none). Confirmations they gave while a seed
    keep counting: they were eligible when they gave them. The caller commits."""
    moment = now or utcnow()
    ended = session.execute(
        update(SeedVoucher)
        .where(SeedVoucher.account_id == account_id, SeedVoucher.removed_at.is_(None))
        .values(removed_at=moment, removed_by=actor)
        .execution_options(synchronize_session=False)
    )
    if rowcount(ended) == 0:
        return False
    record(
        session,
        "vouching.seed_removed",
        actor,
        subject_ref=subject_keys.reference(session, account_id),
    )
    return True


def seed_accounts(session: Session) -> list[tuple[str, dt.datetime]]:
    """The current seed vouchers: (account id, appointed at), oldest first."""
    rows = session.execute(
        select(SeedVoucher.account_id, SeedVoucher.appointed_at)
        .where(SeedVoucher.removed_at.is_(None))
        .order_by(SeedVoucher.appointed_at, SeedVoucher.id)
    )
    return [(account, at) for account, at in rows]
