"""The desktop's event stream of a login by QR waits on the verifier's waiting module: with
notifications (PostgreSQL) it re-reads only when notified or after the fallback interval, not
every 0.25 s; a notification of the login's verification session wakes it at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from attestations.verifier import routes_login as routes_wallet


class _Browser:
    async def is_disconnected(self) -> bool:
        return False


class _Waiter:
    def __init__(self, notified: asyncio.Event) -> None:
        self.notified = notified

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.notified.wait(), timeout)
        except TimeoutError:
            return False
        self.notified.clear()
        return True

    def close(self) -> None:
        pass


class _Listener:
    """A LISTEN connection whose fallback re-read is a minute away."""

    fallback = 60.0

    def __init__(self) -> None:
        self.subscribed: list[str] = []
        self.notified = asyncio.Event()

    def subscribe(self, session_id: str) -> _Waiter:
        self.subscribed.append(session_id)
        return _Waiter(self.notified)


def test_with_notifications_the_stream_reads_only_when_woken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    states = iter([{"status": "pending"}, {"status": "scanned", "pairing_code": "0420"}])
    reads: list[float] = []

    def read_state(database: Any, login_id: str, secret: str | None) -> dict[str, str]:
        reads.append(0.0)
        return next(states, {"status": "done"})

    monkeypatch.setattr(routes_wallet, "_read_state", read_state)

    async def run() -> tuple[list[str], list[str], int]:
        listener = _Listener()
        browser: Any = _Browser()
        stream = routes_wallet._events(browser, None, ("login", "vs-1"), "s", 30.0, listener)  # type: ignore[arg-type]
        chunks: list[str] = [await anext(stream)]
        await asyncio.sleep(0.8)  # the old loop would have read three more times by now
        reads_while_quiet = len(reads)
        listener.notified.set()  # the verification session changed (NOTIFY)
        chunks.append(await asyncio.wait_for(anext(stream), 2))
        listener.notified.set()
        chunks.extend([chunk async for chunk in stream])
        return chunks, listener.subscribed, reads_while_quiet

    chunks, subscribed, reads_while_quiet = asyncio.run(run())

    assert subscribed == ["vs-1"]  # it waits on the login's verification session
    assert reads_while_quiet == 1
    assert [c.split("data: ")[1].strip() for c in chunks] == [
        '{"status": "pending"}',
        '{"status": "scanned", "pairing_code": "0420"}',
        '{"status": "done"}',
    ]
