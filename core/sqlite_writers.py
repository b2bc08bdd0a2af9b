"""One process's SQLite transactions take turns on a lock of their own before `BEGIN
IMMEDIATE`, instead of in SQLite's busy handler.

Every transaction on SQLite takes the database's write lock at BEGIN (see `core.db`). When
that lock is taken, SQLite's busy handler sleeps and retries, in steps of 1, 2, 5, 10, … up
to 100 ms, whether or not the lock is freed meanwhile. Within one app process, where the
thread pool runs several requests at once, those sleeps were most of the waiting: four
concurrent clients saw p95 latencies of 100-190 ms for requests of 5 ms. Here a thread waits
on a `threading.Lock` instead and starts the moment the previous transaction has ended.

Work that must not wait for the lock (work run on the event loop's thread: `Database.
session_now`) takes it with `pin` only if it is free, and keeps it until `unpin`, across all
its transactions: another thread cannot take it between them, so the loop's thread never
waits for one of them (whose end may need the loop: a request's session is closed there).

This is only a queue in front of SQLite's own lock, never a replacement for it: other
processes (`kluis serve --workers N`, the CLI) still meet at SQLite's lock, and a thread that
waited `timeout` seconds for the queue goes on to SQLite's lock as before, so a lost release
(a connection invalidated mid-transaction) slows the process down but never stops it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection


class WriterQueue:
    """The lock of one engine, held from BEGIN until that connection's COMMIT or ROLLBACK
    (also the pool's rollback when a connection is returned mid-transaction)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._holder: Any = None  # the DBAPI connection whose transaction holds the lock
        self._pinned_by: int | None = None  # the thread holding it from `pin` to `unpin`

    def pin(self) -> bool:
        """Take the lock for this thread's transactions until `unpin`, if it is free; False,
        without waiting, if it is taken. The thread must not give up control before
        `unpin` (no await): its transactions are the process's only writers meanwhile."""
        if not self._lock.acquire(blocking=False):
            return False
        self._pinned_by = threading.get_ident()
        return True

    def unpin(self) -> None:
        """Free the lock taken by `pin` (this thread's transactions have ended)."""
        if self._pinned_here():
            self._pinned_by = self._holder = None
            self._lock.release()

    def _pinned_here(self) -> bool:
        return self._pinned_by is not None and self._pinned_by == threading.get_ident()

    def acquire(self, dbapi_connection: Any) -> None:
        if self._holder is dbapi_connection:
            return
        if self._pinned_here():
            self._holder = dbapi_connection
            return
        if self._lock.acquire(timeout=self.timeout):
            self._holder = dbapi_connection

    def release(self, dbapi_connection: Any) -> None:
        if self._holder is not None and self._holder is dbapi_connection:
            self._holder = None
            if not self._pinned_here():
                self._lock.release()

    def install(self, engine: Engine) -> None:
        """Take the lock before the engine's BEGIN; free it after each COMMIT or ROLLBACK
        (after, not before: the next BEGIN would otherwise meet SQLite's lock still held)."""
        dialect = engine.dialect
        do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

        def commit(dbapi_connection: Any) -> None:
            try:
                do_commit(dbapi_connection)
            finally:
                self.release(_raw(dbapi_connection))

        def rollback(dbapi_connection: Any) -> None:
            try:
                do_rollback(dbapi_connection)
            finally:
                self.release(_raw(dbapi_connection))

        dialect.do_commit = commit  # type: ignore[method-assign]
        dialect.do_rollback = rollback  # type: ignore[method-assign]
        _QUEUES[engine] = self

        @event.listens_for(engine, "begin")
        def _before_begin(conn: Connection) -> None:
            self.acquire(_raw(conn.connection))

        @event.listens_for(engine, "close")
        def _on_close(dbapi_connection: Any, _record: Any) -> None:
            self.release(dbapi_connection)

        @event.listens_for(engine, "invalidate")
        def _on_invalidate(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
            self.release(dbapi_connection)


_QUEUES: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The queue installed on `engine` (SQLite), or None."""
    return _QUEUES.get(engine)


def _raw(connection: Any) -> Any:
    """The DBAPI connection behind a pool's proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", connection)
