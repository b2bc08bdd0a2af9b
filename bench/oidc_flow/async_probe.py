"""What a PostgreSQL transaction costs an asyncio server three ways (oidc_flow, round 10).

    KLUIS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/oidc_flow/async_probe.py

One transaction is BEGIN, five prepared one-row SELECTs and COMMIT (seven round trips, about
what a token request makes), run on uvloop as `kluis serve` runs:

- loop-sync: psycopg's blocking connection on the event loop's thread (one client only: the
  loop waits through every round trip);
- thread:    the same in a worker thread per transaction, as Kluis's endpoints do on
             PostgreSQL (anyio's `to_thread`, Starlette's `run_in_threadpool`);
- async:     psycopg's `AsyncConnection` awaited on the loop (no thread, no SQLAlchemy).

Prints wall time and this process's CPU time per transaction (not PostgreSQL's), at one and
at four concurrent clients. A probe for a design decision, not a peer comparison.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import anyio.to_thread  # noqa: E402
import psycopg  # noqa: E402
import uvloop  # noqa: E402

from core import libpq_conninfo  # noqa: E402

QUERY = "SELECT %s::int + 1, 'x'::text, now()"
TRANSACTIONS = 2000
WARM_UP = 100


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _sync_transaction(conn: psycopg.Connection) -> None:
    with conn.transaction():
        cursor = conn.cursor()
        for i in range(5):
            cursor.execute(QUERY, (i,), prepare=True)
            cursor.fetchone()


async def _async_transaction(conn: psycopg.AsyncConnection) -> None:
    async with conn.transaction():
        cursor = conn.cursor()
        for i in range(5):
            await cursor.execute(QUERY, (i,), prepare=True)
            await cursor.fetchone()


async def measure(dsn: str, mode: str, clients: int) -> tuple[float, float]:
    """Wall and CPU time per transaction in µs."""
    sync_conns: list[psycopg.Connection] = []
    async_conns: list[psycopg.AsyncConnection] = []
    if mode == "async":
        async_conns = [await psycopg.AsyncConnection.connect(dsn) for _ in range(clients)]
    else:
        sync_conns = [psycopg.connect(dsn) for _ in range(clients)]

    async def client(k: int, count: int) -> None:
        for _ in range(count):
            if mode == "async":
                await _async_transaction(async_conns[k])
            elif mode == "thread":
                await anyio.to_thread.run_sync(_sync_transaction, sync_conns[k])
            else:
                _sync_transaction(sync_conns[k])

    try:
        await asyncio.gather(*(client(k, WARM_UP) for k in range(clients)))
        cpu, started = _cpu(), time.perf_counter()
        await asyncio.gather(*(client(k, TRANSACTIONS // clients) for k in range(clients)))
        wall, cpu = time.perf_counter() - started, _cpu() - cpu
    finally:
        for conn in sync_conns:
            conn.close()
        for aconn in async_conns:
            await aconn.close()
    return wall / TRANSACTIONS * 1e6, cpu / TRANSACTIONS * 1e6


async def main() -> int:
    url = os.environ.get("KLUIS_BENCH_DATABASE_URL")
    if not url:
        print("set KLUIS_BENCH_DATABASE_URL to a PostgreSQL URL", file=sys.stderr)
        return 1
    dsn = libpq_conninfo(url)
    print("| clients | way | wall per transaction | CPU per transaction (this process) |")
    print("|---|---|---|---|")
    for clients in (1, 4):
        for mode in ("loop-sync", "thread", "async"):
            if mode == "loop-sync" and clients > 1:
                continue
            wall, cpu = await measure(dsn, mode, clients)
            print(f"| {clients} | {mode} | {wall:.0f} µs | {cpu:.0f} µs |")
    return 0


if __name__ == "__main__":
    sys.exit(uvloop.run(main()))
