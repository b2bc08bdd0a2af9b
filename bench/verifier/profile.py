"""Where a verification's server time goes: SQL statements, transactions, server time (p50/p99)
and a cProfile breakdown for each of the four requests of one verification (create session,
request object, direct_post response, result read), from N in-process verifications.

    .venv/bin/python bench/verifier/profile.py -n 200
    KLUIS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        .venv/bin/python bench/verifier/profile.py -n 200

The app runs on a fresh database and is driven by the spec-only test wallet through
`TestClient`. Sync endpoints run in the event loop's thread (not anyio's pool), and an ASGI
wrapper times each request and enables cProfile around it, so one profile sees the whole
request. A first pass counts statements and times requests (no profiler); a second profiles.
"""

# ruff: noqa: E402  (the imports follow the sys.path fix below)
from __future__ import annotations

import sys
from pathlib import Path

# this file's name would shadow the standard library's `profile`: put the repository first
sys.path[0] = str(Path(__file__).resolve().parents[2])

import argparse
import collections
import contextlib
import cProfile
import time
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
from fastapi.testclient import TestClient

from attestations.config import AttestationConfig
from attestations.issuance import create_offer
from bench.oidc_flow.profile import (
    CATEGORIES,
    ISSUER,
    OTHER,
    _same_thread,
    breakdown,
    counting,
    in_process_kluis,
)
from tests.support.attestations import INPUTS, make_account
from tests.support.oidc import make_rp
from tests.support.wallet import Wallet

LABELS = ("create session", "request object", "direct_post response", "result read")
BODY = {
    "purpose": "Benchmark",
    "dcql_query": {
        "credentials": [
            {
                "id": "residence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [f"{ISSUER}/vct/postcode"]},
                "claims": [{"path": ["postcode_area"]}],
            }
        ]
    },
}


@contextlib.contextmanager
def transaction_commands(counts: Any) -> Iterator[None]:
    """Count the BEGIN, COMMIT and ROLLBACK psycopg sends by itself (no cursor event, a round
    trip each) per label, as `tx`: with the statements, the round trips of a request."""
    from psycopg._connection_base import BaseConnection

    original = BaseConnection._exec_command

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts[counts["_current"]["label"]]["tx"] += 1
        return original(self, *args, **kwargs)

    BaseConnection._exec_command = counted  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseConnection._exec_command = original  # type: ignore[method-assign]


def label_of(scope: dict[str, Any]) -> str:
    path, method = scope.get("path", ""), scope.get("method", "")
    if path == "/verifier/sessions" and method == "POST":
        return LABELS[0]
    if path.startswith("/verifier/request/"):
        return LABELS[1]
    if path == "/verifier/response":
        return LABELS[2]
    if path.startswith("/verifier/sessions/"):
        return LABELS[3]
    return "other"


class Probe:
    """ASGI wrapper: labels the statement counter, times each request, optionally profiles."""

    def __init__(self, app: Any, counts: Any) -> None:
        self.app, self.counts = app, counts
        self.times: dict[str, list[float]] = collections.defaultdict(list)
        # CPU time of the request's thread (it does all the request's work: sync endpoints
        # and the thread pool run in the event loop's thread here): steadier than wall time
        # on a shared machine, and without the database server's share
        self.cpu: dict[str, list[float]] = collections.defaultdict(list)
        self.profile: cProfile.Profile | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        label = label_of(scope)
        self.counts["_current"]["label"] = label
        started, cpu = time.perf_counter(), time.thread_time()
        profile = self.profile if label in LABELS else None
        if profile is not None:
            profile.enable()
        try:
            await self.app(scope, receive, send)
        finally:
            if profile is not None:
                profile.disable()
            self.times[label].append(time.perf_counter() - started)
            self.cpu[label].append(time.thread_time() - cpu)
            self.counts["_current"]["label"] = "client"


def one(client: TestClient, wallet: Wallet, auth: tuple[str, str]) -> None:
    created = client.post("/verifier/sessions", json=BODY, auth=auth)
    assert created.status_code == 201, created.text
    session = created.json()
    answer = wallet.present(session["qr_payload"], [("postcode_area",)])
    assert answer.status_code == 200, answer.text
    status = client.get(f"/verifier/sessions/{session['session_id']}", auth=auth).json()
    assert status.get("status") == "done" and "result" in status, status


def trace(engine: Any, probe: Probe, run: Any) -> None:
    from sqlalchemy import event

    def show(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        label = probe.counts["_current"]["label"]
        if label in LABELS:
            print(f"[{label}] {' '.join(statement.split())[:150]}")

    def commit(conn: Any) -> None:
        print(f"[{probe.counts['_current']['label']}] COMMIT")

    event.listen(engine, "before_cursor_execute", show)
    event.listen(engine, "commit", commit)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", show)
        event.remove(engine, "commit", commit)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200, help="verifications per pass")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions")
    parser.add_argument("--trace", action="store_true", help="print one verification's SQL")
    parser.add_argument("--dump", type=Path, help="also write the cProfile stats to this file")
    args = parser.parse_args(argv)
    anyio.to_thread.run_sync = _same_thread  # type: ignore[assignment]
    with in_process_kluis() as (runtime, app):
        with counting(runtime.db.engine) as counts, transaction_commands(counts):
            probe = Probe(app, counts)
            with TestClient(probe, base_url=ISSUER) as client, runtime.db.session() as session:
                rp = make_rp(session)
                account = make_account(session, runtime.subject_keys)
                offer = create_offer(
                    session,
                    runtime.subject_keys,
                    AttestationConfig(ISSUER),
                    account_id=account,
                    type_id="postcode",
                    claims=INPUTS["postcode"],
                    actor="operator:cli",
                )
                session.commit()
                wallet = Wallet(client)
                wallet.accept(offer.offer_uri, offer.tx_code)
                auth = rp.basic()
                for _ in range(5):  # warm-up: caches, compiled statements
                    one(client, wallet, auth)
                for label in [k for k in counts if k != "_current"]:
                    del counts[label]
                probe.times.clear()
                probe.cpu.clear()
                started = time.perf_counter()
                for _ in range(args.n):
                    one(client, wallet, auth)
                wall = time.perf_counter() - started
                times, cpu = dict(probe.times), dict(probe.cpu)
                counted = {k: collections.Counter(v) for k, v in counts.items() if k != "_current"}
                probe.profile = cProfile.Profile()
                for _ in range(args.n):
                    one(client, wallet, auth)
                profile = probe.profile
                probe.profile = None
                if args.trace:
                    trace(runtime.db.engine, probe, lambda: one(client, wallet, auth))
        backend = runtime.db.dialect
    n = args.n
    print(f"\nKluis verifier in-process, {backend}, {n} verifications (after 5 warm-up)\n")
    print(
        "| request | SQL statements | reads | writes | BEGIN | commits | round trips | "
        "p50 ms | p99 ms | CPU ms (mean) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    per_session: list[float] = [0.0] * n
    for label in LABELS:
        c = counted.get(label, collections.Counter())
        total = c["reads"] + c["writes"]
        # SQLite: statements and BEGIN IMMEDIATE (COMMIT is the driver's, not a round trip
        # anywhere); PostgreSQL: statements and what psycopg sent by itself
        trips = total + (c["tx"] if backend == "postgresql" else c["begins"])
        for i, t in enumerate(times[label][:n]):
            per_session[i] += t
        print(
            f"| {label} | {total / n:.1f} | {c['reads'] / n:.1f} | {c['writes'] / n:.1f} | "
            f"{c['begins'] / n:.1f} | {c['commits'] / n:.1f} | {trips / n:.1f} | "
            f"{pct(times[label], 0.5):.1f} | {pct(times[label], 0.99):.1f} | "
            f"{sum(cpu[label][:n]) * 1000 / n:.2f} |"
        )
    print(
        f"| **one verification (server)** | | | | | | | {pct(per_session, 0.5):.1f} | "
        f"{pct(per_session, 0.99):.1f} | "
        f"{sum(sum(cpu[label][:n]) for label in LABELS) * 1000 / n:.2f} |"
    )
    print(f"\nwall per verification, client included: {wall * 1000 / n:.1f} ms")
    server = breakdown(profile)
    print("\nServer time per verification with cProfile on (inflated), ms (share):\n")
    print("| category | ms | share |")
    print("|---|---|---|")
    for category in (*CATEGORIES, OTHER, "total"):
        value = server[category] * 1000 / n
        print(f"| {category} | {value:.2f} | {value / (server['total'] * 1000 / n):.0%} |")
    if args.dump:
        profile.dump_stats(args.dump)
    if args.top:
        import pstats

        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
