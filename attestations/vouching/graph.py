"""Reading the part of the vouching graph the rules need (`rules.Graph`) from the database.

For a set of vouchees: their live confirmations; what their vouchers received (the pair rule
and the "confirmed by the same voucher" rule look one step further back); and, for everyone
involved, their live `real_person` attestations (from `issued_credentials`, whatever the
source), seed appointments, suspensions, whether a steward found them fake, and the address
references of vouchees and vouchers while they hold a valid `postcode` attestation. Queries
go by chunks of ids, so a cascade over thousands of accounts reads in a few round trips.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from attestations.models import IssuedCredential
from attestations.vouching.models import (
    Confirmation,
    FakeReport,
    SeedVoucher,
    Suspension,
    VouchingAddress,
)
from attestations.vouching.rules import Edge, Graph, Span

CHUNK = 500
REAL_PERSON = "real_person"
FAKE = "fake"
ENDED = "peer_expired"  # the revocation reason of `grants.REVOCATION_REASONS["expired"]`


def chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def edges_to(session: Session, vouchees: Iterable[str]) -> list[Edge]:
    """The live (not withdrawn) confirmations the accounts received."""
    found: list[Edge] = []
    for part in chunks(vouchees):
        rows = session.execute(
            select(Confirmation.voucher_id, Confirmation.vouchee_id, Confirmation.created_at).where(
                Confirmation.vouchee_id.in_(part), Confirmation.withdrawn_at.is_(None)
            )
        )
        found.extend(Edge(voucher, vouchee, at) for voucher, vouchee, at in rows)
    return found


def vouchees_of(session: Session, vouchers: Iterable[str]) -> set[str]:
    """Everyone the accounts vouched for (live confirmations)."""
    found: set[str] = set()
    for part in chunks(vouchers):
        found.update(
            session.scalars(
                select(Confirmation.vouchee_id).where(
                    Confirmation.voucher_id.in_(part), Confirmation.withdrawn_at.is_(None)
                )
            )
        )
    return found


def standing(session: Session, accounts: Iterable[str]) -> dict[str, list[Span]]:
    """`real_person` attestations that count: (issued, expires) of those never revoked, and
    (issued, revoked) of peer attestations the deployment's shorter peer validity ended
    (`cascade.settle`): they end, but what their holder vouched before still counts. Any
    other revocation (a fake, a withdrawn basis, an erasure, an operator) means it never
    counted."""
    spans: dict[str, list[Span]] = {}
    for part in chunks(accounts):
        rows = session.execute(
            select(
                IssuedCredential.account_id,
                IssuedCredential.issued_at,
                IssuedCredential.expires_at,
                IssuedCredential.revoked_at,
            )
            .where(
                IssuedCredential.account_id.in_(part),
                IssuedCredential.type == REAL_PERSON,
                or_(
                    IssuedCredential.revoked_at.is_(None),
                    IssuedCredential.revocation_reason == ENDED,
                ),
            )
            .distinct()
        )
        for account, issued, expires, revoked in rows:
            end = expires if revoked is None else min(expires, revoked)
            spans.setdefault(account, []).append(Span(issued, end))
    return spans


def seeds(session: Session, accounts: Iterable[str]) -> dict[str, list[Span]]:
    spans: dict[str, list[Span]] = {}
    for part in chunks(accounts):
        rows = session.execute(
            select(SeedVoucher.account_id, SeedVoucher.appointed_at, SeedVoucher.removed_at).where(
                SeedVoucher.account_id.in_(part)
            )
        )
        for account, start, end in rows:
            spans.setdefault(account, []).append(Span(start, end))
    return spans


def suspensions(session: Session, accounts: Iterable[str]) -> dict[str, list[Span]]:
    spans: dict[str, list[Span]] = {}
    for part in chunks(accounts):
        rows = session.execute(
            select(Suspension.voucher_id, Suspension.starts_at, Suspension.until).where(
                Suspension.voucher_id.in_(part)
            )
        )
        for account, start, end in rows:
            spans.setdefault(account, []).append(Span(start, end))
    return spans


def fakes(session: Session, accounts: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for part in chunks(accounts):
        found.update(
            session.scalars(
                select(FakeReport.reported_id).where(
                    FakeReport.reported_id.in_(part), FakeReport.state == FAKE
                )
            )
        )
    return found


def addresses(session: Session, accounts: Iterable[str], now: dt.datetime) -> dict[str, str]:
    """Address references of the accounts that hold a valid `postcode` attestation now."""
    found: dict[str, str] = {}
    for part in chunks(accounts):
        valid_postcode = (
            select(IssuedCredential.id)
            .where(
                IssuedCredential.account_id == VouchingAddress.account_id,
                IssuedCredential.type == "postcode",
                IssuedCredential.revoked_at.is_(None),
                IssuedCredential.expires_at > now,
            )
            .exists()
        )
        rows = session.execute(
            select(VouchingAddress.account_id, VouchingAddress.address_ref).where(
                VouchingAddress.account_id.in_(part), valid_postcode
            )
        )
        found.update({account: ref for account, ref in rows})
    return found


def load_graph(
    session: Session, vouchees: Iterable[str], now: dt.datetime, also: Iterable[str] = ()
) -> Graph:
    """What the rules need to judge `vouchees` (and, through `also`, a would-be voucher)."""
    targets = set(vouchees)
    graph = Graph()
    first = edges_to(session, targets)
    vouchers = {e.voucher for e in first} | set(also)
    second = edges_to(session, vouchers - targets)
    for edge in first + second:
        graph.add(edge)
    people = targets | vouchers | {e.voucher for e in second}
    graph.standing = standing(session, people)
    graph.seeds = seeds(session, people)
    graph.suspensions = suspensions(session, people)
    graph.fakes = fakes(session, people)
    graph.addresses = addresses(session, targets | vouchers, now)
    return graph
