"""Waiting for a verification session to change: long-poll and server-sent events.

Each check reads the database in the thread pool in its own short transaction; between checks
a waiter blocks on a PostgreSQL notification (`wakeup.Listener`, any app process) with a
fallback re-read, or — on SQLite — polls every `POLL_INTERVAL_SECONDS`. Waiting holds no
thread and no connection.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from attestations.verifier.errors import SessionNotFound
from attestations.verifier.session import FINAL, session_for_client, status_body
from attestations.verifier.wakeup import Listener, Waiter
from core.db import Database

POLL_INTERVAL_SECONDS = 0.25
SSE_KEEPALIVE_SECONDS = 15.0
DISCONNECT_CHECK_SECONDS = 1.0


def read_status(database: Database, client_id: str, session_id: str) -> dict[str, Any]:
    with database.session() as session:
        body = status_body(session, session_for_client(session, client_id, session_id))
        session.commit()
        return body


async def _pause(waiter: Waiter | None, seconds: float) -> bool:
    """Wait for a notification (PostgreSQL) or just sleep (SQLite); True if notified."""
    if waiter is None:
        await asyncio.sleep(seconds)
        return False
    return await waiter.wait(seconds)


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
            body = await run_in_threadpool(read_status, database, client_id, session_id)
    except SessionNotFound:  # purged while waiting
        body = {"status": "expired"}
    finally:
        if waiter is not None:
            waiter.close()
    yield json.dumps(body)


async def events(
    request: Request,
    database: Database,
    client_id: str,
    session_id: str,
    limit: float,
    listener: Listener | None,
) -> AsyncIterator[str]:
    """SSE: one `status` event per change, until the session is final or `limit` passes.
    Between reads it waits for a notification (or the poll interval), sends keep-alives and
    notices a client that went away."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    waiter = listener.subscribe(session_id) if listener is not None else None
    interval = _interval(listener)
    last_status, last_sent = None, loop.time()
    try:
        while True:
            try:
                body = await run_in_threadpool(read_status, database, client_id, session_id)
            except SessionNotFound:
                return
            last_read = loop.time()
            if body["status"] != last_status:
                last_status, last_sent = body["status"], loop.time()
                yield f"event: status\ndata: {json.dumps(body)}\n\n"
            if body["status"] in FINAL or loop.time() >= deadline:
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
