"""One process's SQLite transactions take turns on a lock of their own before `BEGIN
IMMEDIATE`, instead of in SQLite's busy handler.

Every transaction on SQLite takes the database's write lock at BEGIN (see `core.db`). When
that lock is taken, SQLite's busy handler sleeps and retries, in steps of 1, 2, 5, 10, … up
to 100 ms, whether or not the lock is freed meanwhile. Within one app process, where the
thread pool runs several requests at once, those sleeps were most of the waiting: four
concurrent clients saw p95 latencies of 100-190 ms for requests of 5 ms. Here a thread waits
on a `threading.Lock` instead and starts the moment the previous transaction has ended.

This is only a queue in front of SQLite's own lock, never a replacement for it: other
processes (`kluis serve --workers N`, the CLI) still meet at SQLite's lock, and a thread that
waited `timeout` seconds for the queue goes on to SQLite's lock as before, so a lost release
(a connection invalidated mid-transaction) slows the process down but never stops it.
"""

from __future__ import annotations

import threading
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

    def acquire(self, dbapi_connection: Any) -> None:
        if self._holder is dbapi_connection:
            return
        if self._lock.acquire(timeout=self.timeout):
            self._holder = dbapi_connection

    def release(self, dbapi_connection: Any) -> None:
        if self._holder is not None and self._holder is dbapi_connection:
            self._holder = None
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

        @event.listens_for(engine, "begin")
        def _before_begin(conn: Connection) -> None:
            self.acquire(_raw(conn.connection))

        @event.listens_for(engine, "close")
        def _on_close(dbapi_connection: Any, _record: Any) -> None:
            self.release(dbapi_connection)

        @event.listens_for(engine, "invalidate")
        def _on_invalidate(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
            self.release(dbapi_connection)


def _raw(connection: Any) -> Any:
    """The DBAPI connection behind a pool's proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", connection)
