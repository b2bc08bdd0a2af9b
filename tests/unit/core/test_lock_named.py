"""`core.lock_named` holds until the transaction ends, so it refuses a session that commits
every statement on its own (autocommit): the audit log's append lock would end with the
statement that took it, and two appenders could chain to one tail."""

from __future__ import annotations

import pytest

from audit import record
from core import Database, lock_named


def test_a_named_lock_refuses_an_autocommitting_session(database_url: str) -> None:
    database = Database.from_url(database_url)
    try:
        with database.session() as session:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            with pytest.raises(RuntimeError, match="needs a transaction"):
                lock_named(session, "audit")
            with pytest.raises(RuntimeError, match="needs a transaction"):
                record(session, "verifier.session_created", "client:c1")
        with database.session() as session:
            lock_named(session, "audit")  # in a transaction: taken, until it ends
            session.rollback()
    finally:
        database.dispose()
