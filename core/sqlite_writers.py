"""SQLite transactions take turns on a lock of their own before `BEGIN IMMEDIATE`: a thread
lock within a process, a file lock between processes, instead of SQLite's busy handler.

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

Between processes (`kluis serve --workers N`, the CLI) the queue continues on an exclusive
`flock` of a file beside the database (`<database>-writers`, like SQLite's own `-wal` and
`-shm`; the path is the one SQLite opened, from the first connection): the thread holding
the process's lock takes it before BEGIN and frees it after the COMMIT or ROLLBACK. A process
that finds it taken looks again after 50 µs, doubling up to 1 ms, where SQLite's busy handler
would sleep 1, 2, 5, 10 ms and on: with two app processes at four clients those sleeps were
a tenth of a login's time. `pin` takes the file only if it is free, as it takes the thread
lock. A file that cannot be opened or locked is logged and left out: SQLite orders the
processes then, as before.

This is only a queue in front of SQLite's own lock, never a replacement for it: a writer that
does not queue (another program) still meets SQLite's lock, and a thread that waited
`timeout` seconds for the queue or the file goes on to SQLite's lock as before. A lost
release (a connection invalidated mid-transaction without its events) slows every
transaction of the deployment by the timeout but never stops one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection

log = logging.getLogger("kluis.db")


class FileLock:
    """An exclusive `flock` on one file, shared by every process that opens the same path.
    Held by one thread of a process at a time (the `WriterQueue`'s lock sees to that). Each
    process opens the file itself (a forked child drops its parent's descriptor, whose lock
    is the parent's); never raises: where the file fails, it is left out."""

    FIRST_WAIT = 0.00005  # seconds; doubled after each look, up to LONGEST_WAIT
    LONGEST_WAIT = 0.001

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    def _descriptor(self) -> int | None:
        """This process's descriptor of the file, opened on first use; None where it cannot
        be opened."""
        if self._pid != os.getpid():
            self._pid, self._fd = os.getpid(), self._open()
        return self._fd

    def _open(self) -> int | None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            try:  # another user's file (made by the CLI run as root): flock needs no write access
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as error:
                self._leave_out("cannot open", error)
                return None
        weakref.finalize(self, _close_in, os.getpid(), fd)  # with the engine that holds it
        return fd

    def _leave_out(self, what: str, error: OSError) -> None:
        log.warning(
            "%s the SQLite writers' lock file %s (%s): processes wait for each other in "
            "SQLite's busy handler",
            what,
            self.path,
            error.strerror,
        )
        self._fd = None  # (an open descriptor is closed by its finaliser)

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it (or there is no file); never waits."""
        fd = self._descriptor()
        if fd is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as error:  # no locks on this file system, …
            self._leave_out("cannot lock", error)
        return True

    def acquire(self, deadline: float) -> bool:
        """Take the lock, looking again after a short wait while another process holds it,
        until `deadline` (`time.monotonic()`); False if it was not free by then."""
        wait = self.FIRST_WAIT
        while not self.try_acquire():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(wait, left))
            wait = min(wait * 2, self.LONGEST_WAIT)
        return True

    def release(self) -> None:
        fd = self._fd
        if fd is not None and self._pid == os.getpid():
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError as error:
                self._leave_out("cannot unlock", error)

    def forget_after_fork(self) -> None:
        """In a forked child: close the parent's descriptor (its lock stays the parent's)."""
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._pid = None, 0


def _close_in(pid: int, fd: int) -> None:
    """Close `fd` if this is the process that opened it (a forked child closed its copy)."""
    if os.getpid() == pid:
        os.close(fd)


class WriterQueue:
    """The lock of one engine, held from BEGIN until that connection's COMMIT or ROLLBACK
    (also the pool's rollback when a connection is returned mid-transaction), and with it
    `file`'s lock between processes (None: this process's threads only; set by `locate`)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.file: FileLock | None = None
        self._located = False
        self._locating = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._holder: Any = None  # the DBAPI connection whose transaction holds the lock
        self._pinned_by: int | None = None  # the thread holding it from `pin` to `unpin`
        self._file_held = False  # by the thread holding `_lock`

    def locate(self, dbapi_connection: Any) -> None:
        """On the engine's first connection: the file lock beside the database file SQLite
        opened (`PRAGMA database_list`, symbolic links resolved, so every spelling of one
        database's path gives one lock file); none for an in-memory or temporary database."""
        if self._located:
            return
        with self._locating:
            if not self._located:
                path = database_file(dbapi_connection)
                if path is not None:
                    self.file = FileLock(f"{path}-writers")
                self._located = True

    def pin(self) -> bool:
        """Take the lock for this thread's transactions until `unpin`, if it is free; False,
        without waiting, if it is taken (here or, for the file, by another process). The
        thread must not give up control before `unpin` (no await): its transactions are
        the only writers meanwhile."""
        if not self._lock.acquire(blocking=False):
            return False
        if self.file is not None:
            if not self.file.try_acquire():
                self._lock.release()
                return False
            self._file_held = True
        self._pinned_by = threading.get_ident()
        return True

    def unpin(self) -> None:
        """Free the lock taken by `pin` (this thread's transactions have ended)."""
        if self._pinned_here():
            self._pinned_by = self._holder = None
            self._free()

    def _free(self) -> None:
        """Free the file (if held) and the thread lock."""
        try:
            if self._file_held and self.file is not None:
                self._file_held = False
                self.file.release()
        finally:
            self._lock.release()

    def _pinned_here(self) -> bool:
        return self._pinned_by is not None and self._pinned_by == threading.get_ident()

    def acquire(self, dbapi_connection: Any) -> None:
        if self._holder is dbapi_connection:
            return
        if self._pinned_here():
            self._holder = dbapi_connection
            if self.file is not None and not self._file_held:  # pinned before `locate`
                self._file_held = self.file.try_acquire()
            return
        deadline = time.monotonic() + self.timeout
        if self._lock.acquire(timeout=self.timeout):
            self._holder = dbapi_connection
            if self.file is not None:
                self._file_held = self.file.acquire(deadline)

    def release(self, dbapi_connection: Any) -> None:
        if self._holder is not None and self._holder is dbapi_connection:
            self._holder = None
            if not self._pinned_here():
                self._free()

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

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            self.locate(dbapi_connection)

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


def _after_fork_in_child() -> None:
    """A forked child starts with every engine's queue free (a thread of the parent may have
    held one; that thread is not in the child) and no descriptor of its parent's."""
    for queue in list(_QUEUES.values()):
        queue._reset()
        if queue.file is not None:
            queue.file.forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The queue installed on `engine` (SQLite), or None."""
    return _QUEUES.get(engine)


def database_file(dbapi_connection: Any) -> str | None:
    """The file SQLite opened for `dbapi_connection` (`PRAGMA database_list`, symbolic links
    resolved: every spelling of one database's path gives one path), or None for an
    in-memory or temporary database."""
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    return os.path.realpath(row[2]) if row is not None and row[2] else None


def _raw(connection: Any) -> Any:
    """The DBAPI connection behind a pool's proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", connection)
