"""The background worker's lease (service.lease): one holder at a time, renewed by its holder,
taken over once it runs out, and exactly one winner when processes ask at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from core import Database, utcnow
from service.lease import WorkerLease, hold_lease
from tests.support.concurrency import race

TTL = dt.timedelta(seconds=10)


def test_one_holder_at_a_time_renewed_by_it_and_taken_over_when_it_runs_out(
    session: Session,
) -> None:
    now = utcnow()
    assert hold_lease(session, "a", TTL, now=now)
    assert not hold_lease(session, "b", TTL, now=now + dt.timedelta(seconds=5))
    assert hold_lease(session, "a", TTL, now=now + dt.timedelta(seconds=9))  # renewed to 19 s
    assert not hold_lease(session, "b", TTL, now=now + dt.timedelta(seconds=15))
    assert hold_lease(session, "b", TTL, now=now + dt.timedelta(seconds=20))  # a went quiet
    assert not hold_lease(session, "a", TTL, now=now + dt.timedelta(seconds=21))
    assert session.get(WorkerLease, "background").holder == "b"  # type: ignore[union-attr]


def test_leases_of_different_names_do_not_meet(session: Session) -> None:
    assert hold_lease(session, "a", TTL, name="background")
    assert hold_lease(session, "b", TTL, name="other")


@pytest.fixture
def database(fresh_database: str) -> Iterator[Database]:
    db = Database.from_url(fresh_database)
    yield db
    db.dispose()


def test_processes_asking_at_once_get_exactly_one_holder(database: Database) -> None:
    def ask() -> bool:
        me = f"process-{threading.get_ident()}"  # one holder name per thread
        with database.transaction() as session:
            return hold_lease(session, me, TTL)

    results, errors = race(ask, 8)
    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
