"""`core.lock_named` holds until the transaction ends, so it refuses a session that commits
every statement on its own (autocommit): the audit log's append lock would end with the
statement that took it, and two appenders could chain to one tail. On PostgreSQL an append
of fewer than `PIPELINE_MIN_ROWS` entries is one statement (`audit_append`) that holds the lock
throughout, and is allowed there."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from audit import Pending, record, record_many
from audit.log import AuditLog, checkpoint_signer, verify_log
from audit.models import AuditEntry
from audit.record import PIPELINE_MIN_ROWS
from core import Database, lock_named


def test_a_named_lock_refuses_an_autocommitting_session(database_url: str) -> None:
    database = Database.from_url(database_url)
    try:
        with database.session() as session:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            with pytest.raises(RuntimeError, match="needs a transaction"):
                lock_named(session, "audit")
        with database.session() as session:
            lock_named(session, "audit")  # in a transaction: taken, until it ends
            session.rollback()
    finally:
        database.dispose()


def test_an_autocommitted_append_is_one_statement_on_postgresql_only(database_url: str) -> None:
    database = Database.from_url(database_url)
    postgresql = database.dialect == "postgresql"
    large = [Pending("test.batch", "system", None, {"i": i}) for i in range(PIPELINE_MIN_ROWS)]
    try:
        with database.session() as session:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            if not postgresql:
                with pytest.raises(RuntimeError, match="needs a transaction"):
                    record(session, "verifier.session_created", "client:c1")
                return
            first = record(session, "verifier.session_created", "client:c1")
            second = record_many(session, large[:3])  # chains to `first`, read again
            # the pipelined INSERTs come after the lock and tail read: refused, even though
            # this session has just appended (its known tail is no one's lock)
            with pytest.raises(RuntimeError, match="needs a transaction"):
                record_many(session, large)
        with database.session() as session:  # committed, each append on its own
            assert [a.idx for a in second] == [first.idx + 1, first.idx + 2, first.idx + 3]
            count = session.scalar(select(func.count()).select_from(AuditEntry))
            assert count == first.idx + 4
            report = verify_log(session, AuditLog(checkpoint_signer(b"k" * 40, "http://t")))
            assert report.ok, report.problems
    finally:
        database.dispose()
