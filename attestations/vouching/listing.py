"""What stewards and operators read of peer vouching: the open reports, one line per reported
account, and the rows the warning signs are computed from (`overview`). Account ids only;
the steward's pages and the CLI turn them into opaque references before showing them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from attestations.models import IssuedCredential
from attestations.vouching.graph import REAL_PERSON, chunks
from attestations.vouching.models import (
    Confirmation,
    FakeReport,
    PeerGrant,
    SeedVoucher,
    Suspension,
)
from attestations.vouching.overview import GraphRows
from attestations.vouching.reports import OPEN
from attestations.vouching.rules import Edge, VouchingRules
from identity import Account


@dataclass(frozen=True)
class ReportLine:
    """The open reports on one account, and what a steward weighs them against."""

    account_id: str
    report_ids: tuple[str, ...]  # oldest first: the first one is the one to decide
    first_at: dt.datetime
    last_at: dt.datetime
    gave: int  # live confirmations given
    got: int  # live confirmations received
    real_person: bool  # holds a valid real_person attestation (any source)

    @property
    def report_id(self) -> str:
        return self.report_ids[0]


def _live_counts(
    session: Session, column: InstrumentedAttribute[str], accounts: list[str]
) -> dict[str, int]:
    """Live confirmations per account, given (`voucher_id`) or received (`vouchee_id`)."""
    rows = session.execute(
        select(column, func.count())
        .where(column.in_(accounts), Confirmation.withdrawn_at.is_(None))
        .group_by(column)
    )
    return {account: int(n) for account, n in rows}


def real_person_holders(session: Session, accounts: list[str], now: dt.datetime) -> set[str]:
    """The accounts holding a valid `real_person` attestation now."""
    found: set[str] = set()
    for part in chunks(accounts):
        found.update(
            session.scalars(
                select(IssuedCredential.account_id).where(
                    IssuedCredential.account_id.in_(part),
                    IssuedCredential.type == REAL_PERSON,
                    IssuedCredential.revoked_at.is_(None),
                    IssuedCredential.expires_at > now,
                )
            )
        )
    return found


def open_reports(session: Session, now: dt.datetime, limit: int = 200) -> list[ReportLine]:
    """Accounts with open reports, the longest waiting first (at most `limit` accounts)."""
    rows = session.execute(
        select(FakeReport.reported_id, FakeReport.id, FakeReport.created_at)
        .where(FakeReport.state == OPEN)
        .order_by(FakeReport.created_at, FakeReport.id)
    )
    reports: dict[str, list[tuple[str, dt.datetime]]] = {}
    for account, report_id, at in rows:
        if account in reports or len(reports) < limit:
            reports.setdefault(account, []).append((report_id, at))
    accounts = list(reports)
    if not accounts:
        return []
    gave = _live_counts(session, Confirmation.voucher_id, accounts)
    got = _live_counts(session, Confirmation.vouchee_id, accounts)
    holders = real_person_holders(session, accounts, now)
    return [
        ReportLine(
            account_id=account,
            report_ids=tuple(r for r, _ in found),
            first_at=found[0][1],
            last_at=found[-1][1],
            gave=gave.get(account, 0),
            got=got.get(account, 0),
            real_person=account in holders,
        )
        for account, found in reports.items()
    ]


def open_report(session: Session, report_id: str, now: dt.datetime) -> ReportLine | None:
    """The line of the account an open report names, or None (unknown or decided)."""
    row = session.get(FakeReport, report_id)
    if row is None or row.state != OPEN:
        return None
    found = [line for line in open_reports(session, now) if line.account_id == row.reported_id]
    return found[0] if found else None


@dataclass(frozen=True)
class GraphSummary:
    confirmations: int  # live
    peer_holders: int  # accounts with a live peer grant
    seeds: int
    suspended: int  # vouchers suspended now


def graph_rows(session: Session, rules: VouchingRules, now: dt.datetime) -> GraphRows:
    """The rows of `overview.warning_signs`: live confirmations given within the peer
    validity (older ones support nothing any more), every confirmation of the quota period."""
    edges = [
        Edge(voucher, vouchee, at)
        for voucher, vouchee, at in session.execute(
            select(Confirmation.voucher_id, Confirmation.vouchee_id, Confirmation.created_at).where(
                Confirmation.withdrawn_at.is_(None),
                Confirmation.created_at > now - rules.peer_validity,
                Confirmation.created_at <= now,
            )
        )
    ]
    given: dict[str, list[dt.datetime]] = {}
    for voucher, at in session.execute(
        select(Confirmation.voucher_id, Confirmation.created_at).where(
            Confirmation.created_at > now - rules.quota_period, Confirmation.created_at <= now
        )
    ):
        given.setdefault(voucher, []).append(at)
    offences = {
        voucher: int(n)
        for voucher, n in session.execute(
            select(Suspension.voucher_id, func.count()).group_by(Suspension.voucher_id)
        )
    }
    vouchers = sorted({e.voucher for e in edges})
    created: dict[str, dt.datetime] = {}
    since: dict[str, dt.datetime] = {}
    for part in chunks(vouchers):
        accounts = session.execute(
            select(Account.id, Account.created_at).where(Account.id.in_(part))
        )
        created.update((account, at) for account, at in accounts)
        earliest = session.execute(
            select(IssuedCredential.account_id, func.min(IssuedCredential.issued_at))
            .where(
                IssuedCredential.account_id.in_(part),
                IssuedCredential.type == REAL_PERSON,
                IssuedCredential.revoked_at.is_(None),
                IssuedCredential.expires_at > now,
            )
            .group_by(IssuedCredential.account_id)
        )
        since.update((account, at) for account, at in earliest if account is not None)
    seeds = frozenset(
        session.scalars(select(SeedVoucher.account_id).where(SeedVoucher.removed_at.is_(None)))
    )
    return GraphRows(edges, given, offences, created, since, seeds)


def graph_summary(session: Session, now: dt.datetime) -> GraphSummary:
    def count(query: Select[tuple[int]]) -> int:
        return int(session.scalar(query) or 0)

    return GraphSummary(
        confirmations=count(select(func.count()).where(Confirmation.withdrawn_at.is_(None))),
        peer_holders=count(
            select(func.count(func.distinct(PeerGrant.account_id))).where(
                PeerGrant.lapsed_at.is_(None), PeerGrant.expires_at > now
            )
        ),
        seeds=count(select(func.count()).where(SeedVoucher.removed_at.is_(None))),
        suspended=count(
            select(func.count(func.distinct(Suspension.voucher_id))).where(
                Suspension.starts_at <= now, Suspension.until > now
            )
        ),
    )
