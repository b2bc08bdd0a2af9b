"""SQLite transactions queue on a lock before BEGIN IMMEDIATE (`core.sqlite_writers`): one
process's threads on a thread lock, processes on a file lock beside the database, instead of
sleeping in SQLite's busy handler."""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from core.db import make_engine
from core.sqlite_writers import FileLock, WriterQueue, writer_queue
from tests.support.forking import in_forked_child


def test_transactions_of_one_engine_take_turns_and_the_next_starts_at_once(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            order.append("first begun")
            holding.set()
            time.sleep(0.34)
            order.append("first ends")

    def second() -> None:
        holding.wait()
        started = time.perf_counter()
        with engine.begin() as conn:
            order.append("second begun")
            waited.append(time.perf_counter() - started)
            conn.execute(text("INSERT INTO t VALUES (2)"))

    waited: list[float] = []
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert order == ["first begun", "first ends", "second begun"]
    # SQLite's busy handler, sleeping 1, 2, 5, … up to 100 ms a step, would look again only at
    # 428 ms, 88 ms after the first ended; the 70 ms allowed cover the first's COMMIT (an fsync)
    assert waited[0] < 0.34 + 0.07, waited
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2
    engine.dispose()


def test_a_rolled_back_or_failed_transaction_frees_the_queue(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    conn = engine.connect()
    conn.begin()
    conn.execute(text("SELECT 1"))
    conn.rollback()
    conn.close()
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT nonsense FROM nowhere"))
    except Exception:
        pass
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    assert time.perf_counter() - started < 1.0
    engine.dispose()


def test_a_lost_release_only_delays_the_next_transaction_by_the_timeout() -> None:
    queue = WriterQueue(timeout=1.0)
    queue.acquire("a connection that never ends its transaction")
    started = time.perf_counter()
    queue.acquire("another")  # goes on to SQLite's own lock after the timeout
    assert 0.9 < time.perf_counter() - started < 5.0
    queue.release("another")  # it never held the queue: nothing is released
    queue.release("a connection that never ends its transaction")
    started = time.perf_counter()
    queue.acquire("another")
    assert time.perf_counter() - started < 0.5  # not the timeout: the queue was free
    queue.release("another")


HOLD_IN_ANOTHER_PROCESS = """
import sys, time
from sqlalchemy import text
from core.db import make_engine
engine = make_engine(sys.argv[1])
with engine.begin() as conn:
    conn.execute(text("INSERT INTO t VALUES (1)"))
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    ending = time.monotonic()  # before the COMMIT that frees the file
print(ending, flush=True)
"""


def _holder(url: str, seconds: float) -> subprocess.Popen[str]:
    """Another process of the same deployment, in a write transaction for `seconds`."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_ANOTHER_PROCESS, url, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert process.stdout is not None and process.stdout.readline() == "holding\n"
    return process


class _Clock:
    """`time` for `core.sqlite_writers`: sleeping only moves the clock on, and says by how
    much."""

    def __init__(self) -> None:
        self.now, self.sleeps = 100.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _lock_on_a_clock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, free_in: float
) -> tuple[FileLock, _Clock]:
    """A file lock on `_Clock`, whose file another process frees `free_in` seconds from now."""
    clock = _Clock()
    monkeypatch.setattr("core.sqlite_writers.time", clock)
    lock = FileLock(str(tmp_path / "db-writers"))
    free_at = clock.now + free_in
    monkeypatch.setattr(lock, "try_acquire", lambda: clock.now >= free_at)
    return lock, clock


def test_a_taken_file_is_looked_at_again_after_50_us_doubling_up_to_1_ms(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lock, clock = _lock_on_a_clock(monkeypatch, tmp_path, free_in=0.02)

    assert lock.acquire(deadline=clock.now + 1.0)
    first = FileLock.FIRST_WAIT
    assert clock.sleeps[:3] == [first, 2 * first, 4 * first]
    assert max(clock.sleeps) == FileLock.LONGEST_WAIT and clock.sleeps == sorted(clock.sleeps)
    assert clock.now - 100.02 < FileLock.LONGEST_WAIT  # seen within one look of its end


def test_a_file_taken_until_the_deadline_is_given_up_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lock, clock = _lock_on_a_clock(monkeypatch, tmp_path, free_in=60.0)

    assert not lock.acquire(deadline=clock.now + 0.05)
    assert abs(clock.now - 100.05) < 1e-9  # slept exactly up to it, not past


def test_another_processs_transaction_holds_the_file_and_the_next_begins_when_it_ends(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    queue = writer_queue(engine)
    assert queue is not None and queue.file is not None
    assert queue.file.path == f"{os.path.realpath(tmp_path / 'q.sqlite3')}-writers"
    other = _holder(url, 0.34)
    assert not queue.pin()  # the loop's thread would not wait: the file is taken
    with engine.begin() as conn:  # waits for the other process, in short looks
        began = time.monotonic()
        conn.execute(text("INSERT INTO t VALUES (2)"))
    assert other.stdout is not None
    with other.stdout:
        other_ending = float(other.stdout.readline())
    assert other.wait(timeout=10) == 0
    # SQLite's busy handler, which began waiting just after the other process began holding,
    # would look again only 428 ms after it began: 88 ms after the 340 ms hold
    assert 0 < began - other_ending < 0.08, began - other_ending
    assert queue.pin()  # free again, here and in the file
    queue.unpin()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY rowid")).scalars().all() == [1, 2]
    engine.dispose()


def test_the_file_is_free_after_each_transaction_and_never_shared_with_a_fork(
    tmp_path: Path,
) -> None:
    lock = FileLock(str(tmp_path / "db-writers"))
    other = FileLock(lock.path)  # another process's view: a descriptor of its own
    assert lock.try_acquire()
    assert not other.try_acquire()
    started = time.monotonic()
    assert not other.acquire(time.monotonic() + 0.02)  # gives up at its deadline
    assert 0.015 < time.monotonic() - started < 0.5
    lock.release()
    assert other.try_acquire()
    other.release()
    assert lock.try_acquire()  # held by the parent when it forks
    # the child drops the inherited descriptor and opens its own: refused while the parent
    # holds the lock
    assert not in_forked_child(lock.try_acquire)
    assert not other.try_acquire()  # the child's exit left the parent's lock in place
    lock.release()
    assert other.try_acquire()
    other.release()


def test_a_forked_child_starts_with_the_queue_free_and_the_file_its_parents(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    queue = writer_queue(engine)
    assert queue is not None and queue.file is not None and queue.pin()  # held when forking
    file = queue.file
    # in the child the thread lock is free; the file stays the parent's
    assert in_forked_child(lambda: queue._lock.acquire(blocking=False) and not file.try_acquire())
    queue.unpin()
    assert queue.pin()
    queue.unpin()
    engine.dispose()


def test_the_lock_file_is_the_one_sqlite_opened_and_none_for_memory(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    paths = []
    for url in (
        f"sqlite:///{tmp_path / 'real' / 'k.sqlite3'}",
        f"sqlite:///{tmp_path / 'link' / 'k.sqlite3'}",  # another spelling of the same file
        f"sqlite:///file:{tmp_path / 'link' / 'k.sqlite3'}?uri=True",
    ):
        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        queue = writer_queue(engine)
        assert queue is not None and queue.file is not None
        paths.append(queue.file.path)
        engine.dispose()
    assert paths == [f"{os.path.realpath(tmp_path / 'real' / 'k.sqlite3')}-writers"] * 3
    for memory in ("sqlite://", "sqlite:///file:kluis?mode=memory&cache=shared&uri=True"):
        engine = make_engine(memory)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        queue = writer_queue(engine)
        assert queue is not None and queue.file is None
        engine.dispose()
    assert [p.name for p in (tmp_path / "real").iterdir() if p.name.endswith("-writers")] == [
        "k.sqlite3-writers"
    ]


def test_a_lock_file_that_cannot_be_opened_leaves_the_order_to_sqlite(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lock = FileLock(str(tmp_path / "no such directory" / "db-writers"))
    with caplog.at_level(logging.WARNING, logger="kluis.db"):
        assert lock.try_acquire() and lock.acquire(time.monotonic())  # nothing to take
        lock.release()
    assert [r.getMessage().count("busy handler") for r in caplog.records] == [1]


def test_another_users_lock_file_is_locked_through_a_read_only_descriptor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db-writers"
    path.touch(mode=0o644)
    opened: list[int] = []
    real_open = os.open

    def open_as_another_user(file: str, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied")
        opened.append(flags)
        return real_open(file, flags, mode)

    held = FileLock(str(path))
    assert held.try_acquire()  # opened for writing, as its maker
    monkeypatch.setattr(os, "open", open_as_another_user)
    other = FileLock(str(path))
    assert not other.try_acquire()
    assert opened == [os.O_RDONLY | os.O_CLOEXEC]
    held.release()
    assert other.try_acquire()
    other.release()


def test_a_file_system_without_locks_leaves_the_order_to_sqlite_and_frees_the_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with caplog.at_level(logging.WARNING, logger="kluis.db"):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
        queue = writer_queue(engine)
        assert queue is not None and queue.pin()  # the thread lock was freed
        queue.unpin()
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        assert time.perf_counter() - started < 1.0
    assert [r.getMessage().count("No locks available") for r in caplog.records] == [1]
    engine.dispose()
