"""CPU work that releases the GIL (an RSA signature), run beside the event loop's thread
when other requests are waiting for it.

One app process runs its Python on one core at a time. An RSA-3072 signature (~1 ms, the
largest single cost of a token response) releases the GIL while OpenSSL computes, so with
several requests in flight it is worth a thread: the loop's thread serves the others
meanwhile. A lone request signs right here, since the hop to a thread and back costs more
than the overlap gains when nothing else waits (~0.1 ms of CPU on a virtual machine) —
unless it has something of its own to wait for meanwhile: a token request's RSA signature
is `begun` before its COMMIT, so that the fsync or the round trip and the signature overlap.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Load:
    """Requests this process has begun and not yet answered (counted by the app's
    outermost middleware, on the event loop's thread)."""

    active = 0


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _executor_lock:  # `begun` is called from worker threads too
            if _executor is None:
                _executor = ThreadPoolExecutor(
                    os.cpu_count() or 2, thread_name_prefix="kluis-offload"
                )
    return _executor


def on_event_loop() -> bool:
    """Whether this thread runs the event loop (else it is a worker thread, whose hop the
    request has paid already: GIL-releasing work is best done right there)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def begun(work: Callable[[], T]) -> Future[T] | None:
    """`work()` begun now in the offload pool, when this is the process's only request in
    flight; its future is then awaited where the request no longer holds anything (no
    transaction, no write turn). For work whose result is needed only after this thread has
    waited on something that releases the GIL (a COMMIT's fsync or round trip): the two
    overlap when a second core is free. None when other requests are in flight: the cores
    have other work then, and the hop would only add to it. `work` must not touch a
    database session or anything of the request's but its own arguments; should nobody
    await the future (the request failed meanwhile), the work still runs to its end (or,
    when its awaiter is cancelled before a thread has taken it up, never begins)."""
    if Load.active > 1:
        return None
    return _pool().submit(work)


async def released(work: Callable[[], T]) -> T:
    """`work()`, in a thread when other requests are in flight, else here. `work` must not
    touch a database session or anything of the request's but its own arguments."""
    if Load.active <= 1:
        return work()
    return await asyncio.get_running_loop().run_in_executor(_pool(), work)
