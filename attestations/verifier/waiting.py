"""Waiting for a verification session to change: long-poll and server-sent events.

Each check reads the database in the thread pool in its own short transaction; between checks
a waiter blocks on a PostgreSQL notification (`wakeup.Listener`, any app process) with a
fallback re-read, or — on SQLite — polls every `POLL_INTERVAL_SECONDS`. Waiting holds no
thread and no connection.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from attestations.verifier.errors import SessionNotFound
from attestations.verifier.session import FINAL, status_body, status_for_client
from attestations.verifier.wakeup import Listener, Waiter, listener_for
from core import Database, Load, connection_lost, error_fields

log = logging.getLogger("kluis.verifier.waiting")
T = TypeVar("T")

POLL_INTERVAL_SECONDS = 0.25
SSE_KEEPALIVE_SECONDS = 15.0
DISCONNECT_CHECK_SECONDS = 1.0


def read_status(database: Database, client_id: str, session_id: str) -> dict[str, Any]:
    with database.session() as session:
        body = status_body(session, status_for_client(session, client_id, session_id))
        session.commit()
        return body


async def _reread(read: Callable[[], T], last: T) -> T:
    """A re-read while waiting. The database being unreachable (a failover, seconds) is no
    news: the waiter keeps what it last read and reads again after its next pause, instead
    of breaking a response whose 200 has already been sent."""
    try:
        return await run_in_threadpool(read)
    except DBAPIError as error:
        if not connection_lost(error):
            raise
        log.warning(
            "verifier waiter: database unavailable; will read again", extra=error_fields(error)
        )
        return last


async def _pause(waiter: Waiter | None, seconds: float) -> bool:
    """Wait for a notification (PostgreSQL) or just sleep (SQLite); True if notified. A
    request waiting here is no load (`core.Load`): platforms keep long-polls and event
    streams open for minutes, and counted they would send every ID token's signature to a
    thread (`core.released`) although nothing else was running."""
    Load.active -= 1
    try:
        if waiter is None:
            await asyncio.sleep(seconds)
            return False
        return await waiter.wait(seconds)
    finally:
        Load.active += 1


def _interval(listener: Listener | None) -> float:
    return listener.fallback if listener is not None else POLL_INTERVAL_SECONDS


async def long_poll(
    database: Database, client_id: str, session_id: str, wait: float, listener: Listener | None
) -> AsyncIterator[str]:
    """Re-read (in the thread pool) when notified of a change — or, without notifications,
    every poll interval — until the status changes or `wait` runs out, then send the one
    JSON body. Waiting holds no thread and no connection."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    waiter = listener.subscribe(session_id) if listener is not None else None
    try:
        first = body = await run_in_threadpool(read_status, database, client_id, session_id)
        while body["status"] == first["status"] and body["status"] not in FINAL:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await _pause(waiter, min(remaining, _interval(listener)))
            body = await _reread(
                functools.partial(read_status, database, client_id, session_id), body
            )
    except SessionNotFound:  # purged while waiting
        body = {"status": "expired"}
    finally:
        if waiter is not None:
            waiter.close()
    yield json.dumps(body)


async def wait_for_change(
    read: Callable[[], dict[str, Any] | None],
    session_id: str,
    wait: float,
    listener: Listener | None,
    final: Collection[str] = FINAL,
) -> dict[str, Any] | None:
    """What `read` returns once it differs from its first answer (or is final, or `wait`
    runs out); None when the thing is gone. `read` runs in the thread pool and opens its own
    short transaction; between reads this waits as `long_poll` does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    waiter = listener.subscribe(session_id) if listener is not None else None
    try:
        first = body = await run_in_threadpool(read)
        while body is not None and body == first and body["status"] not in final:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await _pause(waiter, min(remaining, _interval(listener)))
            body = await _reread(read, body)
        return body
    finally:
        if waiter is not None:
            waiter.close()


async def events(
    request: Request,
    database: Database,
    client_id: str,
    session_id: str,
    limit: float,
    listener: Listener | None,
) -> AsyncIterator[str]:
    """A platform's SSE stream of its session (see `change_events`)."""

    def read() -> dict[str, Any] | None:
        try:
            return read_status(database, client_id, session_id)
        except SessionNotFound:
            return None

    async for chunk in change_events(request, read, session_id, limit, listener):
        yield chunk


async def change_events(
    request: Request,
    read: Callable[[], dict[str, Any] | None],
    session_id: str,
    limit: float,
    listener: Listener | None,
    final: Collection[str] = FINAL,
) -> AsyncIterator[str]:
    """SSE: one `status` event per change of what `read` returns (a JSON object with a
    `status`; None when the thing is gone), until its status is in `final` or `limit` passes.
    `read` runs in the thread pool and opens its own short transaction. Between reads it waits
    for a notification of verification session `session_id` (or the poll interval), sends
    keep-alives and notices a client that went away. Also used by login by QR."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    waiter = listener.subscribe(session_id) if listener is not None else None
    interval = _interval(listener)
    last_body: dict[str, Any] | None = None
    last_sent = loop.time()
    try:
        while True:
            if last_body is None:  # nothing read yet
                body = await run_in_threadpool(read)
            else:
                body = await _reread(read, body)
            if body is None:
                return
            last_read = loop.time()
            if body != last_body:
                last_body, last_sent = body, loop.time()
                yield f"event: status\ndata: {json.dumps(body)}\n\n"
            if body["status"] in final or loop.time() >= deadline:
                return
            while True:
                if loop.time() - last_sent >= SSE_KEEPALIVE_SECONDS:
                    last_sent = loop.time()
                    yield ": keep-alive\n\n"
                if await request.is_disconnected():
                    return
                step = max(0.0, min(DISCONNECT_CHECK_SECONDS, interval, deadline - loop.time()))
                notified = await _pause(waiter, step)
                now = loop.time()
                if notified or now - last_read >= interval or now >= deadline:
                    break
    finally:
        if waiter is not None:
            waiter.close()


def request_listener(request: Request) -> Listener | None:
    """The app process's LISTEN connection (PostgreSQL), or None (SQLite: poll)."""
    settings = request.app.state.settings
    fallback = float(settings.verifier_fallback_poll)
    return listener_for(request.app.state, settings.database_url, fallback)
