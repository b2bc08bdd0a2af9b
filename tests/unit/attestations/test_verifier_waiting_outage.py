"""A platform waiting for a verification session (long-poll, SSE) rides out a database
failover: a re-read that cannot reach the database is no news, the wait goes on, and the
change is delivered once the database is back. (The 200 of a waiting response is already
sent; breaking it would leave the platform without an answer.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

from attestations.verifier import waiting
from core import Load

GONE = OperationalError("SELECT …", {}, Exception("server closed the connection"))


def _reader(first: str, then: str, gone: Exception = GONE) -> Any:
    """Reads `first`, then fails three times with `gone` (the failover), then reads `then`."""
    results: list[dict[str, str] | Exception] = [{"status": first}, gone, gone, gone]
    results.append({"status": then})

    def read(*_: Any) -> dict[str, str]:
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    return read


class _Browser:
    async def is_disconnected(self) -> bool:
        return False


def test_a_long_poll_waits_through_an_outage_and_delivers_the_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(waiting, "read_status", _reader("scanned", "done"))

    async def poll() -> list[str]:
        return [chunk async for chunk in waiting.long_poll(None, "c", "s", 10, None)]  # type: ignore[arg-type]

    assert asyncio.run(poll()) == ['{"status": "done"}']


def test_an_event_stream_waits_through_an_outage_and_delivers_the_change() -> None:
    read = _reader("pending", "done")

    async def stream() -> list[str]:
        events = waiting.change_events(_Browser(), read, "s", 10, None)  # type: ignore[arg-type]
        return [chunk async for chunk in events]

    chunks = asyncio.run(stream())
    assert chunks == [
        'event: status\ndata: {"status": "pending"}\n\n',
        'event: status\ndata: {"status": "done"}\n\n',
    ]


def test_a_connection_the_pool_found_broken_is_an_outage_too() -> None:
    broken = InterfaceError("SELECT …", {}, Exception("the connection is closed"))
    broken.connection_invalidated = True
    read = _reader("pending", "done", broken)

    async def stream() -> list[str]:
        events = waiting.change_events(_Browser(), read, "s", 10, None)  # type: ignore[arg-type]
        return [chunk async for chunk in events]

    assert asyncio.run(stream())[-1] == 'event: status\ndata: {"status": "done"}\n\n'


def test_a_refused_statement_is_no_outage_and_is_not_swallowed() -> None:
    read = _reader("pending", "done", ProgrammingError("SELECT …", {}, Exception("syntax")))

    async def stream() -> list[str]:
        events = waiting.change_events(_Browser(), read, "s", 10, None)  # type: ignore[arg-type]
        return [chunk async for chunk in events]

    with pytest.raises(ProgrammingError):
        asyncio.run(stream())


def test_a_request_waiting_between_reads_is_no_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """While a long-poll waits, `core.Load` counts only the requests that run, so that a lone
    token request signs its ID token on the loop's thread (`core.released`)."""
    monkeypatch.setattr(Load, "active", 1)  # this request, as the middleware counted it
    monkeypatch.setattr(waiting, "read_status", lambda *_: {"status": "pending"})
    seen: list[int] = []

    async def watch() -> None:
        while True:
            seen.append(Load.active)
            await asyncio.sleep(0.01)

    async def poll() -> None:
        watcher = asyncio.create_task(watch())
        async for _ in waiting.long_poll(None, "c", "s", 0.2, None):  # type: ignore[arg-type]
            pass
        watcher.cancel()

    asyncio.run(poll())
    # counted while it reads (in the thread pool), not while it waits (most of the 0.2 s)
    assert set(seen) <= {0, 1} and seen.count(0) >= 10
    assert Load.active == 1  # counted again once it runs
