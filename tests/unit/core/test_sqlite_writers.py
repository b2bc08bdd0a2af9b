"""SQLite transactions of one process queue on a lock before BEGIN IMMEDIATE
(`core.sqlite_writers`), instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from core.db import make_engine
from core.sqlite_writers import WriterQueue


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
            time.sleep(0.2)
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
    # SQLite's busy handler would have slept in steps of up to 100 ms after the first ended
    assert waited[0] < 0.2 + 0.08, waited
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
    queue = WriterQueue(timeout=0.05)
    queue.acquire("a connection that never ends its transaction")
    started = time.perf_counter()
    queue.acquire("another")  # goes on to SQLite's own lock after the timeout
    assert 0.04 < time.perf_counter() - started < 1.0
    queue.release("another")  # it never held the queue: nothing is released
    queue.release("a connection that never ends its transaction")
    started = time.perf_counter()
    queue.acquire("another")
    assert time.perf_counter() - started < 0.04
    queue.release("another")
