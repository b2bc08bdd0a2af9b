"""`core.offload`: GIL-releasing work (the ID token's RSA signature) runs beside the event loop
only while other requests are in flight (`tests/unit/service/test_load_count.py`: who counts
them)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from core import Load, begun, on_event_loop, released


@pytest.fixture(autouse=True)
def _idle() -> Iterator[None]:
    Load.active = 0
    yield
    Load.active = 0


def _where() -> tuple[int, bool]:
    return threading.get_ident(), on_event_loop()


def test_a_lone_request_works_on_the_loops_thread() -> None:
    async def main() -> tuple[tuple[int, bool], int]:
        Load.active = 1
        return await released(_where), threading.get_ident()

    (thread, on_loop), loop_thread = asyncio.run(main())
    assert thread == loop_thread and on_loop


def test_with_other_requests_in_flight_the_work_runs_in_a_thread_of_its_own() -> None:
    async def main() -> tuple[tuple[int, bool], int]:
        Load.active = 3
        return await released(_where), threading.get_ident()

    (thread, on_loop), loop_thread = asyncio.run(main())
    assert thread != loop_thread and not on_loop


def test_errors_of_the_work_reach_the_caller_in_both_places() -> None:
    def fail() -> None:
        raise ValueError("no key")

    for active in (1, 2):

        async def main(active: int = active) -> None:
            Load.active = active
            await released(fail)

        with pytest.raises(ValueError, match="no key"):
            asyncio.run(main())


def test_begun_starts_a_lone_requests_work_in_the_pool_before_anyone_waits() -> None:
    started = threading.Event()
    go_on = threading.Event()

    def work() -> int:
        started.set()
        go_on.wait(5)
        return threading.get_ident()

    Load.active = 1
    future = begun(work)
    assert future is not None
    assert started.wait(5)  # begun before anyone asked for the result
    go_on.set()
    assert future.result(5) != threading.get_ident()


def test_begun_work_is_awaitable_on_the_loop() -> None:
    async def main() -> tuple[int, int]:
        Load.active = 1
        future = begun(threading.get_ident)
        assert future is not None
        return await asyncio.wrap_future(future), threading.get_ident()

    worker, loop_thread = asyncio.run(main())
    assert worker != loop_thread


def test_begun_leaves_the_work_to_the_caller_while_other_requests_are_in_flight() -> None:
    ran: list[bool] = []
    Load.active = 2
    assert begun(lambda: ran.append(True)) is None
    assert ran == []


def test_begun_work_raises_its_error_when_its_result_is_asked_for() -> None:
    def fail() -> None:
        raise ValueError("no key")

    Load.active = 0
    future = begun(fail)
    assert future is not None
    with pytest.raises(ValueError, match="no key"):
        future.result(5)
