"""Concurrent writers for tests of single-use and append-only behaviour."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from core.db import Database

T = TypeVar("T")


def in_retried_transaction(
    database: Database, work: Callable[[Session], None], attempts: int
) -> None:
    """Run `work` in its own transaction; retry when SQLite answers "database is locked"
    (its busy timeout ran out under contention), re-raise anything else."""
    for attempt in range(attempts):
        try:
            with database.transaction() as session:
                work(session)
            return
        except Exception as exc:
            if "locked" not in str(exc) and "busy" not in str(exc).lower():
                raise
            if attempt == attempts - 1:
                raise


def run_workers(workers: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run `work(n)` for n in range(workers) in threads at once; return what they raised."""
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def race(target: Callable[[], T], n: int) -> tuple[list[T], list[BaseException]]:
    """Call `target()` in n threads released at once (a barrier); return what the calls
    returned and what they raised."""
    results: list[T] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        barrier.wait()
        try:
            results.append(target())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors
