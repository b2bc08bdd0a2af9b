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


class _VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when a quiet wait is simulated: the test injects
    time instead of sleeping on the real clock."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def time(self) -> float:
        return self.now


class _Waiter:
    """A subscription to NOTIFY: answers at once when notified; otherwise the wait's whole
    timeout passes (on the virtual clock) without a notification."""

    def __init__(self, notified: asyncio.Event, timeouts: list[float]) -> None:
        self.notified = notified
        self.timeouts = timeouts

    async def wait(self, timeout: float) -> bool:
        self.timeouts.append(timeout)
        if self.notified.is_set():
            self.notified.clear()
            return True
        loop = asyncio.get_running_loop()
        assert isinstance(loop, _VirtualLoop)
        loop.now += timeout
        await asyncio.sleep(0)
        return False

    def close(self) -> None:
        pass


class _Listener:
    """A LISTEN connection whose fallback re-read is a minute away."""

    fallback = 60.0

    def __init__(self) -> None:
        self.subscribed: list[str] = []
        self.notified = asyncio.Event()
        self.timeouts: list[float] = []

    def subscribe(self, session_id: str) -> _Waiter:
        self.subscribed.append(session_id)
        return _Waiter(self.notified, self.timeouts)


def test_with_notifications_the_stream_reads_only_when_woken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    states = iter([{"status": "pending"}, {"status": "scanned", "pairing_code": "0420"}])
    reads: list[float] = []  # the virtual time of each read
    loop = _VirtualLoop()

    def read_state(database: Any, login_id: str, secret: str | None) -> dict[str, str]:
        reads.append(loop.now)
        return next(states, {"status": "done"})

    monkeypatch.setattr(routes_wallet, "_read_state", read_state)
    listener = _Listener()

    async def run() -> list[str]:
        browser: Any = _Browser()
        stream = routes_wallet._events(browser, None, ("login", "vs-1"), "s", 30.0, listener)  # type: ignore[arg-type]
        chunks: list[str] = [await anext(stream)]
        # 15 quiet seconds pass without a notification: the stream only keeps the line alive
        chunks.append(await anext(stream))
        listener.notified.set()  # the verification session changed (NOTIFY)
        chunks.append(await anext(stream))
        listener.notified.set()
        chunks.extend([chunk async for chunk in stream])
        return chunks

    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        chunks = runner.run(run())

    assert listener.subscribed == ["vs-1"]  # it waits on the login's verification session
    assert reads == [0.0, 15.0, 15.0]  # no re-read in the quiet 15 s; at once when notified
    assert chunks[1] == ": keep-alive\n\n"
    assert all(timeout >= 1.0 for timeout in listener.timeouts)  # never a 0.25 s poll
    assert [c.split("data: ")[1].strip() for c in chunks if "data: " in c] == [
        '{"status": "pending"}',
        '{"status": "scanned", "pairing_code": "0420"}',
        '{"status": "done"}',
    ]
