"""Work on the event loop's thread (`Database.session_now`, `in_session(local=True)`): on
SQLite it runs there only if its transaction can begin without waiting, keeps this process's
write lock until it ends, and otherwise goes to the thread pool with nothing done twice."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from core import Database, in_session
from core.db import SQLITE_BUSY_TIMEOUT_MS


@pytest.fixture
def file_db(tmp_path: Path) -> Iterator[Database]:
    database = Database.from_url(f"sqlite:///{tmp_path / 'now.sqlite3'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    yield database
    database.dispose()


def _rows(database: Database) -> list[int]:
    with database.engine.connect() as conn:
        return [n for (n,) in conn.execute(text("SELECT n FROM t ORDER BY rowid"))]


def _writer_thread(database: Database, began: threading.Event, order: list[str]) -> None:
    with database.engine.begin() as conn:
        began.set()
        conn.execute(text("INSERT INTO t VALUES (2)"))
        order.append("thread wrote")


def test_the_lock_stays_with_the_work_across_its_transactions(file_db: Database) -> None:
    order: list[str] = []
    began = threading.Event()
    with file_db.session_now() as session:
        assert session is not None and session.in_transaction()
        session.execute(text("INSERT INTO t VALUES (1)"))
        session.commit()
        thread = threading.Thread(target=_writer_thread, args=(file_db, began, order))
        thread.start()
        # between this work's transactions the thread must not get in
        assert not began.wait(0.2)
        session.execute(text("INSERT INTO t VALUES (3)"))
        session.rollback()  # a refused request: rolled back, then a fresh transaction
        session.execute(text("INSERT INTO t VALUES (4)"))
        session.commit()
        order.append("work ended")
    thread.join(timeout=10)
    assert order == ["work ended", "thread wrote"]
    assert _rows(file_db) == [1, 4, 2]


@contextmanager
def _thread_writing(database: Database, release_after: float = 10.0) -> Iterator[None]:
    """Another thread of this process in a write transaction (it inserts 1) until the block
    ends or `release_after` seconds have passed."""
    began, release = threading.Event(), threading.Event()

    def hold() -> None:
        with database.engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            began.set()
            release.wait(release_after)

    thread = threading.Thread(target=hold)
    thread.start()
    began.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(timeout=10)


def test_a_writing_thread_sends_the_work_away_without_waiting(file_db: Database) -> None:
    with _thread_writing(file_db):
        started = time.perf_counter()
        with file_db.session_now() as session:
            assert session is None
        assert time.perf_counter() - started < 0.5  # waiting would take the 10 s hold
    with file_db.session_now() as session:  # the lock is free again, for either kind
        assert session is not None
        session.execute(text("INSERT INTO t VALUES (2)"))
        session.commit()
    with file_db.transaction() as session:
        session.execute(text("INSERT INTO t VALUES (3)"))
    assert _rows(file_db) == [1, 2, 3]


def test_another_process_writing_sends_the_work_away_without_waiting(
    file_db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "now.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer
    started = time.perf_counter()
    with file_db.session_now() as session:
        assert session is None
    # SQLite's busy handler would have waited SQLITE_BUSY_TIMEOUT_MS
    assert time.perf_counter() - started < 1.0
    other.execute("ROLLBACK")
    other.close()
    with file_db.session_now() as session:
        assert session is not None
        timeout = session.execute(text("PRAGMA busy_timeout")).scalar()
        assert timeout == SQLITE_BUSY_TIMEOUT_MS  # restored after the BEGIN that must not wait
    with file_db.transaction() as session:  # and the queue is free for the thread pool
        session.execute(text("INSERT INTO t VALUES (1)"))
    assert _rows(file_db) == [1]


def test_a_database_bound_to_one_connection_never_runs_work_here(file_db: Database) -> None:
    with file_db.engine.connect() as conn:
        bound = Database.bound_to(conn)
        with bound.session_now() as session:
            assert session is None


def _app(database: Database, runs: list[int]) -> FastAPI:
    app = FastAPI()
    app.state.db = database

    def work(session: Session) -> int:
        runs.append(threading.get_ident())
        session.execute(text("INSERT INTO t VALUES (1)"))
        session.commit()
        return threading.get_ident()

    @app.post("/work")
    async def route(request: Request) -> dict[str, bool]:
        ran_on = await in_session(request, work, local=True)
        return {"here": ran_on == threading.get_ident()}

    return app


def test_local_work_runs_on_the_loop_or_once_in_the_pool(file_db: Database) -> None:
    runs: list[int] = []
    with TestClient(_app(file_db, runs)) as client:
        assert client.post("/work").json() == {"here": True}
        with _thread_writing(file_db, release_after=0.2):
            assert client.post("/work").json() == {"here": False}  # waited in the pool
    assert len(runs) == 2  # the work sent away was not started here first
    assert _rows(file_db) == [1, 1, 1]
