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

from sqlalchemy import ColumnElement, String, any_, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

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
ARRAY_CHUNK = 10_000
REAL_PERSON = "real_person"
FAKE = "fake"
ENDED = "peer_expired"  # the revocation reason of `lapses.REVOCATION_REASONS["expired"]`


def chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def among(
    session: Session,
    column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
    ids: Iterable[str],
) -> Iterator[ColumnElement[bool]]:
    """`column IN ids` as the conditions of a few statements. On PostgreSQL one array
    parameter per `ARRAY_CHUNK` ids (`column = ANY(:ids)`): the statement is compiled and
    planned once, however many ids, where an IN list of hundreds of parameters costs more to
    render and parse than to run. Elsewhere an IN list per `CHUNK` ids."""
    ordered = sorted(set(ids))
    if session.get_bind().dialect.name != "postgresql":
        for part in chunks(ordered):
            yield column.in_(part)
        return
    for start in range(0, len(ordered), ARRAY_CHUNK):
        yield column == any_(literal(ordered[start : start + ARRAY_CHUNK], ARRAY(String)))


def edges_to(session: Session, vouchees: Iterable[str]) -> list[Edge]:
    """The live (not withdrawn) confirmations the accounts received."""
    found: list[Edge] = []
    for part in among(session, Confirmation.vouchee_id, vouchees):
        rows = session.execute(
            select(Confirmation.voucher_id, Confirmation.vouchee_id, Confirmation.created_at).where(
                part, Confirmation.withdrawn_at.is_(None)
            )
        )
        found.extend(Edge(voucher, vouchee, at) for voucher, vouchee, at in rows)
    return found


def vouchees_of(session: Session, vouchers: Iterable[str]) -> set[str]:
    """Everyone the accounts vouched for (live confirmations)."""
    found: set[str] = set()
    for part in among(session, Confirmation.voucher_id, vouchers):
        found.update(
            session.scalars(
                select(Confirmation.vouchee_id).where(part, Confirmation.withdrawn_at.is_(None))
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
    for part in among(session, IssuedCredential.account_id, accounts):
        rows = session.execute(
            select(
                IssuedCredential.account_id,
                IssuedCredential.issued_at,
                IssuedCredential.expires_at,
                IssuedCredential.revoked_at,
            )
            .where(
                part,
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
    for part in among(session, SeedVoucher.account_id, accounts):
        rows = session.execute(
            select(SeedVoucher.account_id, SeedVoucher.appointed_at, SeedVoucher.removed_at).where(
                part
            )
        )
        for account, start, end in rows:
            spans.setdefault(account, []).append(Span(start, end))
    return spans


def suspensions(session: Session, accounts: Iterable[str]) -> dict[str, list[Span]]:
    spans: dict[str, list[Span]] = {}
    for part in among(session, Suspension.voucher_id, accounts):
        rows = session.execute(
            select(Suspension.voucher_id, Suspension.starts_at, Suspension.until).where(part)
        )
        for account, start, end in rows:
            spans.setdefault(account, []).append(Span(start, end))
    return spans


def fakes(session: Session, accounts: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for part in among(session, FakeReport.reported_id, accounts):
        found.update(
            session.scalars(select(FakeReport.reported_id).where(part, FakeReport.state == FAKE))
        )
    return found


def addresses(session: Session, accounts: Iterable[str], now: dt.datetime) -> dict[str, str]:
    """Address references of the accounts that hold a valid `postcode` attestation now."""
    found: dict[str, str] = {}
    for part in among(session, VouchingAddress.account_id, accounts):
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
                part, valid_postcode
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
