"""Waking clients that wait for a verification session (long-poll, SSE) in any app process.

On PostgreSQL a state change sends `NOTIFY kluis_verifier, '<session id>'` in the same
transaction as the change (so it is delivered exactly when the change commits, and never for
a change that rolled back). Each app process keeps one dedicated connection that LISTENs, in a
thread, and wakes the asyncio waiters of that session. Waiters still re-read the database now
and then (`fallback` seconds) in case a notification was missed while the listener
reconnected. SQLite has no notifications: waiters poll.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import InstrumentedAttribute, Session

from core import libpq_conninfo, multi_host_url

log = logging.getLogger("kluis.verifier.wakeup")

CHANNEL = "kluis_verifier"
RECEIVE_TIMEOUT_SECONDS = 0.5  # how often the listener thread checks whether to stop
RECONNECT_SECONDS = 1.0
CONNECT_WAIT_SECONDS = 2.0


def notify_change(session: Session, session_id: str) -> None:
    """Announce a change of `session_id`; delivered at commit (PostgreSQL only)."""
    if session.get_bind().dialect.name == "postgresql":
        notify = text("SELECT pg_notify(:channel, :id)")
        session.execute(notify, {"channel": CHANNEL, "id": session_id})


def notify_returning(
    session: Session, session_id: ColumnElement[str] | InstrumentedAttribute[str]
) -> list[Any]:
    """`notify_change` as a RETURNING expression of the UPDATE that changes the session: the
    NOTIFY is sent for each row the UPDATE changed, by the same statement (one round trip
    less), and delivered at commit like `notify_change`'s. Empty on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return [func.pg_notify(CHANNEL, session_id).label("notified")]
    return []


class Waiter:
    def __init__(self, listener: Listener, session_id: str) -> None:
        self.listener, self.session_id = listener, session_id
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        """True when notified within `timeout` seconds."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except TimeoutError:
            return False
        self.event.clear()
        return True

    def close(self) -> None:
        self.listener.unsubscribe(self)


class Listener:
    """One LISTEN connection per app process, shared by all waiters."""

    def __init__(self, database_url: str, fallback: float) -> None:
        # what the engine connects with: with a multi-host URL and target_session_attrs,
        # a reconnect after a failover finds the new primary
        self.conninfo = libpq_conninfo(database_url)
        self.fallback = fallback
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = defaultdict(set)
        self._thread = threading.Thread(target=self._run, name="kluis-verifier-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.connected.wait(CONNECT_WAIT_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def subscribe(self, session_id: str) -> Waiter:
        waiter = Waiter(self, session_id)
        with self._lock:
            self._waiters[session_id].add(waiter)
        return waiter

    def unsubscribe(self, waiter: Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(waiter.session_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[waiter.session_id]

    def _wake(self, session_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(session_id, ()))
        for waiter in waiters:
            waiter.loop.call_soon_threadsafe(waiter.event.set)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=RECEIVE_TIMEOUT_SECONDS):
                            self._wake(notice.payload)
            except psycopg.Error:
                log.warning("verifier LISTEN connection lost; waiters poll until it is back")
            finally:
                self.connected.clear()
            self._stop.wait(RECONNECT_SECONDS)


_START_LOCK = threading.Lock()


def listener_for(state: Any, database_url: str, fallback: float) -> Listener | None:
    """The process's listener (started on first use), or None on SQLite."""
    if make_url(multi_host_url(database_url)).get_backend_name() != "postgresql":
        return None
    with _START_LOCK:
        listener: Listener | None = getattr(state, "verifier_listener", None)
        if listener is None:
            listener = Listener(database_url, fallback)
            listener.start()
            state.verifier_listener = listener
    return listener


def stop_listener(state: Any) -> None:
    listener: Listener | None = getattr(state, "verifier_listener", None)
    if listener is not None:
        listener.stop()
        state.verifier_listener = None
