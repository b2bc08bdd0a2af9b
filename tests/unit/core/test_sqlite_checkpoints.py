"""SQLite's WAL checkpoints run on a thread of their own, a moment after commits, not in the
COMMIT (`core.sqlite_checkpoints`); a connection checkpoints itself only past a backstop."""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from core import sqlite_checkpoints
from core.db import Database, make_engine
from core.sqlite_checkpoints import BACKSTOP_PAGES, WalCheckpointer, wal_checkpointer
from tests.support.forking import in_forked_child


def _rows_in_database_file(path: Path) -> int:
    """Rows of `t` in the database file itself, the WAL left unread (`immutable`): what
    checkpoints have copied there."""
    connection = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)
    try:
        return int(connection.execute("SELECT count(*) FROM t").fetchone()[0])
    except sqlite3.OperationalError:  # no such table: not checkpointed yet
        return 0
    finally:
        connection.close()


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _engine_with_rows(path: Path, rows: int) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER, pad TEXT)"))
    for n in range(rows):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:n, :pad)"), {"n": n, "pad": "x" * 500})
    return engine


def test_the_commit_leaves_the_checkpoint_to_the_thread_which_copies_it_a_moment_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(WalCheckpointer, "committed", lambda self: None)  # no thread here
    path = tmp_path / "c.sqlite3"
    engine = _engine_with_rows(path, 20)
    checkpointer = wal_checkpointer(engine)
    assert checkpointer is not None and checkpointer.path == os.path.realpath(path)
    # 21 commits and none copied anything into the database file: no commit checkpoints
    assert _rows_in_database_file(path) == 0
    with engine.connect() as conn:  # each connection checkpoints itself only past this
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == BACKSTOP_PAGES
    found = checkpointer.checkpoint()
    assert found is not None and found[0] == 0 and found[1] == found[2] > 0
    assert _rows_in_database_file(path) == 20


def _running(path: Path, rows: int) -> tuple[Engine, WalCheckpointer, threading.Thread]:
    """An engine that has just committed `rows` rows, its checkpointer and the thread those
    commits started."""
    engine = _engine_with_rows(path, rows)
    checkpointer = wal_checkpointer(engine)
    assert checkpointer is not None
    thread = checkpointer._thread
    assert thread is not None
    return engine, checkpointer, thread


def test_a_commit_is_on_disk_before_it_returns(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: WAL synced


def test_the_thread_checkpoints_after_commits_ends_when_idle_and_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_checkpoints, "AFTER_S", 0.01)
    monkeypatch.setattr(sqlite_checkpoints, "IDLE_S", 1.0)
    path = tmp_path / "c.sqlite3"
    engine, checkpointer, first = _running(path, 5)
    assert first.name == "kluis-wal-checkpoints"
    assert _until(lambda: _rows_in_database_file(path) == 5)
    assert _until(lambda: checkpointer._thread is None)  # idle: ended
    first.join(5)
    assert not first.is_alive()
    before = checkpointer.checkpoints
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (5, '')"))
    assert checkpointer._thread is not None and checkpointer._thread is not first
    assert _until(lambda: _rows_in_database_file(path) == 6)
    # counted once the checkpoint's connection has closed: a moment after the rows are in
    assert _until(lambda: checkpointer.checkpoints > before)


def test_a_commit_while_the_idle_thread_ends_is_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread's end and a commit's wake-up cross: either the ending thread sees the
    wake-up and goes on, or the commit finds no thread and starts one."""
    monkeypatch.setattr(sqlite_checkpoints, "AFTER_S", 0.0)
    monkeypatch.setattr(sqlite_checkpoints, "IDLE_S", 0.001)
    path = tmp_path / "c.sqlite3"
    engine = _engine_with_rows(path, 1)
    for n in range(60):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:n, '')"), {"n": n})
        time.sleep(0.001 * (n % 3))
    assert _until(lambda: _rows_in_database_file(path) == 61)


def test_an_in_memory_database_has_no_thread() -> None:
    engine = make_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    checkpointer = wal_checkpointer(engine)
    assert checkpointer is not None and checkpointer.path is None
    assert checkpointer._thread is None and checkpointer.checkpoint() is None


def test_a_database_file_removed_meanwhile_is_not_made_anew(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = WalCheckpointer()
    checkpointer.path = str(tmp_path / "gone.sqlite3")
    with caplog.at_level(logging.WARNING, logger="kluis.db"):
        assert checkpointer.checkpoint() is None
    assert not (tmp_path / "gone.sqlite3").exists()
    assert caplog.text == ""  # gone is not a failure


def test_a_failed_checkpoint_is_logged_and_the_commits_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = WalCheckpointer()
    (tmp_path / "not-a-database").write_bytes(b"plain text, not SQLite" * 100)
    checkpointer.path = str(tmp_path / "not-a-database")
    with caplog.at_level(logging.WARNING, logger="kluis.db"):
        assert checkpointer.checkpoint() is None
    assert "checkpoint failed: DatabaseError" in caplog.text


def test_the_thread_ends_with_its_engine(tmp_path: Path) -> None:
    engine, checkpointer, thread = _running(tmp_path / "c.sqlite3", 1)
    engine.dispose()
    del engine
    gc.collect()
    thread.join(5)
    assert not thread.is_alive() and checkpointer._thread is None


def test_dispose_ends_the_thread_before_its_checkpoint_and_a_commit_starts_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_checkpoints, "AFTER_S", 30.0)  # the thread waits to copy
    path = tmp_path / "c.sqlite3"
    database = Database(make_engine(f"sqlite:///{path}"))
    with database.transaction() as session:
        session.execute(text("CREATE TABLE t (n INTEGER, pad TEXT)"))
    checkpointer = wal_checkpointer(database.engine)
    assert checkpointer is not None
    thread = checkpointer._thread
    assert thread is not None
    began = time.monotonic()
    database.dispose()  # does not wait out the 30 s: the thread ends at once
    assert time.monotonic() - began < 10 and not thread.is_alive()
    assert checkpointer._thread is None and checkpointer.checkpoints == 0
    # nothing of ours touches the files after dispose (a restore renames them next)
    files = {p.name: p.read_bytes() for p in tmp_path.glob("c.sqlite3*")}
    time.sleep(0.2)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("c.sqlite3*")} == files
    assert checkpointer.checkpoints == 0
    monkeypatch.setattr(sqlite_checkpoints, "AFTER_S", 0.01)
    with database.transaction() as session:  # the engine works on, and so does the thread
        session.execute(text("INSERT INTO t VALUES (1, '')"))
    assert checkpointer._thread is not None
    assert _until(lambda: _rows_in_database_file(path) == 1)
    database.dispose()


def test_a_forked_child_starts_its_own_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_checkpoints, "IDLE_S", 60.0)
    path = tmp_path / "c.sqlite3"
    engine, checkpointer, parents = _running(path, 1)
    assert parents.is_alive()

    def in_child() -> bool:
        if checkpointer._thread is not None:  # the parent's thread is not in the child
            return False
        engine.dispose(close=False)  # the parent's connections stay the parent's
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1, '')"))
        child = checkpointer._thread
        return (
            child is not None
            and child is not parents
            and _until(lambda: _rows_in_database_file(path) == 2)
        )

    assert in_forked_child(in_child)
    assert checkpointer._thread is parents  # the parent's own is untouched
