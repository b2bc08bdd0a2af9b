"""`record_if`: a write and, only if it wrote a row, its audit entry; on PostgreSQL one
statement (the write as a CTE, then `audit_append_if`, migration 0024), so the pair is atomic
even where each statement commits on its own."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from sqlalchemy import bindparam, create_engine, delete, insert, select, update
from sqlalchemy.orm import Session

from audit.log import AuditLog, checkpoint_signer, verify_log
from audit.models import AuditCheckpoint, AuditEntry
from audit.record import PersonalDataInAudit, record, record_if
from core import Prepared, autocommit_on_server
from core.db import Database
from tests.support.databases import backend

RECORD = importlib.import_module("audit.record")  # `audit.record` is also the function
POSTGRESQL = backend() == "postgresql"
# A table of the audit log's own serves as the written one: any write with RETURNING would do
ADD = Prepared(
    insert(AuditCheckpoint)
    .values(
        tree_size=bindparam("size"),
        root_hash=bindparam("root"),
        note=bindparam("note"),
        created_at=bindparam("at"),
    )
    .returning(AuditCheckpoint.tree_size, AuditCheckpoint.created_at)
)
RENAME = Prepared(
    update(AuditCheckpoint)
    .where(AuditCheckpoint.tree_size == bindparam("size"))
    .values(note=bindparam("note"))
    .returning(AuditCheckpoint.note)
)
AT = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def values(size: int, note: str = "n") -> dict[str, object]:
    return {"size": size, "root": b"r" * 32, "note": note, "at": AT}


def entries(session: Session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.idx)))


@pytest.fixture
def clean(session: Session) -> Session:
    session.execute(delete(AuditCheckpoint))
    session.execute(delete(AuditEntry))
    return session


def test_a_write_that_returns_a_row_is_audited_and_chained(clean: Session) -> None:
    first = record(clean, "test.first", "system")
    row = record_if(clean, ADD, values(7), "test.added", "system", None, {"size": 7})
    assert row is not None and row.tree_size == 7 and row.created_at == AT  # types converted
    later = record(clean, "test.later", "system")  # chained to the entry record_if appended
    stored = entries(clean)
    assert [e.event for e in stored] == ["test.first", "test.added", "test.later"]
    assert [e.idx for e in stored] == [first.idx, first.idx + 1, later.idx]
    assert clean.scalar(select(AuditCheckpoint.note).where(AuditCheckpoint.tree_size == 7)) == "n"
    clean.execute(delete(AuditCheckpoint))  # not a signed checkpoint: out of the way
    report = verify_log(clean, AuditLog(checkpoint_signer(b"k" * 40, "http://testserver")))
    assert report.ok and report.tree_size == 3, report.problems


def test_a_write_that_matches_nothing_appends_nothing(clean: Session) -> None:
    record(clean, "test.first", "system")
    assert record_if(clean, RENAME, {"size": 99, "note": "x"}, "test.renamed", "system") is None
    assert [e.event for e in entries(clean)] == ["test.first"]
    record_if(clean, ADD, values(99), "test.added", "system")
    renamed = record_if(clean, RENAME, {"size": 99, "note": "x"}, "test.renamed", "system")
    assert renamed is not None and renamed.note == "x"
    assert [e.event for e in entries(clean)] == ["test.first", "test.added", "test.renamed"]


def test_a_refused_entry_leaves_the_write_undone(clean: Session) -> None:
    with pytest.raises(PersonalDataInAudit):
        record_if(clean, ADD, values(5), "test.added", "system", None, {"email": "a@b.nl"})
    assert clean.scalar(select(AuditCheckpoint.tree_size)) is None
    assert entries(clean) == []


def test_a_database_that_spells_the_entry_otherwise_stops_the_request(
    clean: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not POSTGRESQL:
        pytest.skip("only PostgreSQL spells entries in the database")
    forged = RECORD._APPEND_IF.replace("last_leaf FROM", "sha256('x') FROM")
    assert forged != RECORD._APPEND_IF
    monkeypatch.setattr(RECORD, "_APPEND_IF", forged)
    with pytest.raises(RuntimeError, match="spelled an audit entry differently"):
        record_if(clean, ADD, values(3), "test.added", "system")


def test_in_autocommit_the_write_and_its_entry_are_one_unit(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statement commits alone here: the write is stored with its entry, and an append
    that fails takes the write with it (one statement). SQLite has no autocommit sessions:
    the write and the append are two statements of the caller's transaction there."""
    if not POSTGRESQL:
        pytest.skip("autocommit sessions are PostgreSQL's (core.autocommit_on_server)")
    db = Database(create_engine(fresh_database))
    try:
        with db.session() as session:
            autocommit_on_server(session)
            assert record_if(session, ADD, values(1), "test.added", "system") is not None
            monkeypatch.setattr(RECORD, "_APPEND_IF", "SELECT 1 / (SELECT count(*) - 1 FROM w)")
            with pytest.raises(Exception, match="division by zero"):
                record_if(session, ADD, values(2), "test.added", "system")
        with db.engine.connect() as conn:  # what another connection sees: committed rows
            sizes = conn.scalars(select(AuditCheckpoint.tree_size)).all()
            events = conn.scalars(select(AuditEntry.event)).all()
        assert sizes == [1] and events == ["test.added"]
    finally:
        db.dispose()
