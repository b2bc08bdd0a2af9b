"""SQLite's WAL checkpoints on a thread of their own, not in the transaction that commits.

In WAL mode every commit appends pages to the `-wal` file; a checkpoint copies them back
into the database file and syncs both. SQLite runs it in the connection that commits, once
the WAL holds `wal_autocheckpoint` pages (1,000 by default): that COMMIT then copies a
thousand pages and waits for two fsyncs, while Kluis's writers' queue (`core.
sqlite_writers`) still holds the write turn of every thread and process, so each writer
waits behind it. Measured on 1,000-entry batches of audit entries: about a fifth of the wall
time of an append.

Here a checkpointer thread per engine and process does the copying a moment after commits
(`PRAGMA wal_checkpoint(PASSIVE)` on a connection of its own, opened for each checkpoint:
PASSIVE never waits for readers or writers and never blocks them), while the writers go on.
A connection still checkpoints itself once the WAL holds `BACKSTOP_PAGES` pages: where the
thread falls behind or cannot run, the WAL stays bounded as before. A checkpoint copies
only committed pages, so durability is the commit's (`PRAGMA synchronous`, `core.db`),
whichever thread checkpoints.

The thread starts on the first commit in a process (a forked child starts its own) and
ends after `IDLE_S` seconds without one; an in-memory or temporary database has none.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from core.sqlite_writers import database_file

log = logging.getLogger("kluis.db")

BACKSTOP_PAGES = 8_000  # `wal_autocheckpoint` of each connection (SQLite's default: 1,000)
AFTER_S = 0.05  # a checkpoint this long after the commit that woke the thread
IDLE_S = 5.0  # the thread ends after this long without a commit


class WalCheckpointer:
    """Checkpoints one SQLite database's WAL on its own thread (see the module)."""

    def __init__(self) -> None:
        self.path: str | None = None  # the database file, set on the first connection
        self._located = False
        self._closed = False
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._halt = threading.Event()  # set by `stop` and `close`: the thread ends now
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # this process's, for tests and diagnostics

    def install(self, engine: Engine) -> None:
        """Wake the thread after each of the engine's COMMITs (after the writers' queue has
        freed the write turn, if installed first); tell each new connection to checkpoint
        itself only past the backstop; end the thread with the engine."""
        _CHECKPOINTERS[engine] = self
        weakref.finalize(engine, self.close)
        do_commit = engine.dialect.do_commit

        def commit(dbapi_connection: Any) -> None:
            do_commit(dbapi_connection)
            self.committed()  # not in this COMMIT: on its own thread, a moment later

        engine.dialect.do_commit = commit  # type: ignore[method-assign]

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            if not self._located:  # the first one says which file (none: in memory)
                self.path = database_file(dbapi_connection)
                self._located = True

    def close(self) -> None:
        """No more checkpoints here (the engine is gone): a running thread ends."""
        self._closed = True
        self._halt.set()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread and wait for it (`Database.dispose`): once this returns, no
        checkpoint of this process opens the database until the next commit (a restore
        renames the file next, and a connection of ours would keep or remove its WAL)."""
        thread = self._thread
        self._halt.set()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if not self._closed:
            self._halt.clear()

    def committed(self) -> None:
        """After each COMMIT: wake the thread, starting it if it is not running. Never
        raises (the commit has happened): a thread that cannot start is logged, and the
        connections' own checkpoints keep the WAL bounded."""
        if self.path is None or self._closed:
            return
        self._wake.set()  # first, then look: a thread about to end sees it (`_run`)
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    thread = threading.Thread(
                        target=self._run, name="kluis-wal-checkpoints", daemon=True
                    )
                    try:
                        thread.start()
                    except RuntimeError as error:  # can't start new thread
                        log.warning("SQLite WAL checkpoints stay in the commits: %s", error)
                        return
                    self._thread = thread

    def _run(self) -> None:
        me = threading.current_thread()
        try:
            while not self._halt.is_set():
                if not self._wake.wait(IDLE_S):
                    with self._lock:
                        if self._thread is not me:
                            return  # a forked child's reset replaced this one
                        self._thread = None  # first, then look (`committed`)
                        if not self._wake.is_set():
                            return
                        self._thread = me
                if self._halt.wait(AFTER_S):  # commits in the meantime share this checkpoint
                    return
                self._wake.clear()
                self.checkpoint()
        finally:
            with self._lock:
                if self._thread is me:
                    self._thread = None

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One passive checkpoint now: (busy, pages in the WAL, pages checkpointed), or None
        where it failed (logged; the connections' own checkpoints go on)."""
        if self.path is None or self._closed:
            return None
        try:
            # mode=rw: a database file removed meanwhile is not made anew, empty
            uri = f"{Path(self.path).as_uri()}?mode=rw"
            connection = sqlite3.connect(uri, uri=True, isolation_level=None)
            try:
                # the checkpointing connection's setting decides its syncs (WAL, then file)
                connection.execute("PRAGMA synchronous=FULL")
                row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:
            if not os.path.exists(self.path):
                return None  # the database is gone (a test's, removed with its directory)
            log.warning("SQLite WAL checkpoint failed: %s", type(error).__name__)
            return None
        self.checkpoints += 1
        return (int(row[0]), int(row[1]), int(row[2])) if row is not None else None


_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()


def wal_checkpointer(engine: Engine) -> WalCheckpointer | None:
    """The WAL checkpointer installed on `engine` (SQLite), or None."""
    return _CHECKPOINTERS.get(engine)


def _after_fork_in_child() -> None:
    """A forked child has none of its parent's threads: each checkpointer starts anew."""
    for checkpointer in list(_CHECKPOINTERS.values()):
        checkpointer._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
