"""Fast appends (`record_many`, the tail known within a transaction) keep the chain intact."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from audit.log import AuditLog, checkpoint_signer, verify_log
from audit.models import AuditEntry
from audit.record import Pending, PersonalDataInAudit, record, record_many
from core import autocommit_on_server
from core.db import Database
from tests.support.concurrency import in_retried_transaction, run_workers

REF = "cd" * 32


def _log() -> AuditLog:
    return AuditLog(checkpoint_signer(b"k" * 40, "http://testserver"))


def _indices(session: Session) -> list[int]:
    return list(session.scalars(select(AuditEntry.idx).order_by(AuditEntry.idx)))


def _run_dense_and_chained(database: Database, append: Callable[[int], None], count: int) -> None:
    """`append(n)` in four workers at once; then the log holds `count` entries, dense and
    chained. Disposes of `database`."""
    errors = run_workers(4, append)
    try:
        assert not errors
        with database.transaction() as session:
            assert _indices(session) == list(range(count))
            _assert_chained(session)
    finally:
        database.dispose()


def _assert_chained(session: Session) -> None:
    rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.idx)))
    assert [r.idx for r in rows] == list(range(len(rows)))
    prev = None
    for row in rows:
        assert row.leaf_hash == hashlib.sha256(b"\x00" + row.entry.encode()).digest()
        assert json.loads(row.entry)["prev"] == (prev.hex() if prev else None)
        prev = row.leaf_hash
    report = verify_log(session, _log())
    assert report.ok, report.problems


def test_record_many_chains_like_consecutive_records(session: Session) -> None:
    session.execute(delete(AuditEntry))
    record(session, "test.first", "system")
    appended = record_many(
        session,
        [
            Pending("consent.given", "resident", REF, {"client": "c1", "claims": ["email"]}),
            Pending("consent.withdrawn", "resident", REF, {"client": "c1"}),
            Pending("key.rotated", "operator:cli"),
        ],
    )
    record(session, "test.last", "system")
    assert [a.idx for a in appended] == [1, 2, 3]
    assert [a.event for a in appended] == ["consent.given", "consent.withdrawn", "key.rotated"]
    stored = session.get(AuditEntry, 2)
    assert stored is not None and stored.entry == appended[1].entry
    assert stored.leaf_hash == appended[1].leaf_hash
    _assert_chained(session)


def test_record_many_with_nothing_appends_nothing(session: Session) -> None:
    before = _indices(session)
    assert record_many(session, []) == []
    assert _indices(session) == before


def test_record_many_refuses_the_whole_batch_when_one_entry_has_personal_data(
    session: Session,
) -> None:
    before = _indices(session)
    with pytest.raises(PersonalDataInAudit):
        record_many(
            session,
            [
                Pending("consent.given", "resident", REF, {"client": "c1"}),
                Pending("test.event", "system", None, {"note": "mail jan@example.org"}),
            ],
        )
    with pytest.raises(ValueError, match="dotted"):
        record_many(session, [Pending("test.event", "system"), Pending("Bad", "system")])
    assert _indices(session) == before


def test_appends_after_a_rolled_back_savepoint_continue_from_the_stored_tail(
    session: Session,
) -> None:
    session.execute(delete(AuditEntry))
    record(session, "test.kept", "system")
    savepoint = session.begin_nested()
    record_many(session, [Pending("test.undone", "system"), Pending("test.undone", "system")])
    savepoint.rollback()
    assert record(session, "test.after", "system").idx == 1
    _assert_chained(session)


def test_appends_after_a_rewrite_of_the_log_in_the_same_transaction_reread_the_tail(
    session: Session,
) -> None:
    session.execute(delete(AuditEntry))
    record_many(session, [Pending("test.event", "system")] * 3)
    session.execute(delete(AuditEntry).where(AuditEntry.idx >= 1))
    assert record(session, "test.event", "system").idx == 1
    _assert_chained(session)


def test_a_later_transaction_chains_to_entries_another_session_appended(
    fresh_database: str,
) -> None:
    database = Database.from_url(fresh_database)
    try:
        with database.session() as mine:
            with mine.begin():
                record(mine, "test.mine", "system")
            with database.transaction() as other:
                record_many(other, [Pending("test.other", "system")] * 2)
            with mine.begin():
                assert record(mine, "test.mine", "system").idx == 3
        with database.transaction() as session:
            _assert_chained(session)
    finally:
        database.dispose()


def test_concurrent_batches_and_single_appends_stay_dense_and_chained(
    fresh_database: str,
) -> None:
    database = Database.from_url(fresh_database)

    def append(n: int) -> None:
        for i in range(4):

            def write(session: Session, i: int = i) -> None:
                if n % 2:
                    record(session, "test.single", f"client:w{n}", None, {"i": i})
                else:
                    batch = [Pending("test.batch", f"client:w{n}", None, {"i": i})]
                    record_many(session, batch * 3)

            in_retried_transaction(database, write, attempts=40)

    _run_dense_and_chained(database, append, 2 * 4 * 3 + 2 * 4)


def test_autocommitted_appends_interleave_with_transactions_that_hold_the_lock(
    fresh_database: str,
) -> None:
    # PostgreSQL: an `audit_append` call outside a transaction (UserInfo's) waits for the lock
    # that a transaction appending several times holds until it commits, and chains to it
    database = Database.from_url(fresh_database)
    if database.dialect != "postgresql":
        database.dispose()
        pytest.skip("only PostgreSQL appends in autocommit")

    def append(n: int) -> None:
        for i in range(4):
            if n % 2:
                with database.session() as session:
                    autocommit_on_server(session)
                    record(session, "test.single", f"client:w{n}", None, {"i": i})
                continue

            def write(session: Session, i: int = i) -> None:
                for _ in range(3):  # the lock is held from the first until the commit
                    record(session, "test.batch", f"client:w{n}", None, {"i": i})

            in_retried_transaction(database, write, attempts=40)

    _run_dense_and_chained(database, append, 2 * 4 * 3 + 2 * 4)
