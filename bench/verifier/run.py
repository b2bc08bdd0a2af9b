"""Verifier benchmark: OpenID4VP sessions end to end against a real `kluis serve`.

    .venv/bin/python bench/verifier/run.py --seconds 10 --pending 10000

1. Throughput: for `--seconds` (after `--warmup`), each of `--concurrency` client threads
   repeats one whole verification: the platform creates a session (POST /verifier/sessions),
   the spec-only test wallet resolves the QR payload, fetches the request object and posts an
   SD-JWT+KB presentation of `postcode_area` (direct_post), and the platform reads the
   result JWT. Prints sessions/s, p50/p95 latency of one verification, and the server time
   of one verification (p50/p99): the sum of the `ms` the server logs for its four requests,
   matched by the `X-Request-Id` the clients send (the server logs at INFO for this). Also
   the CPU time per verification of the server's processes and of this client (both
   warm-up included), which noise from other work on the machine changes far less than
   times.
2. Memory: creates `--pending` pending sessions, then prints the database bytes per session
   row (table and indexes; SQLite `dbstat`, PostgreSQL `pg_total_relation_size`) and the
   server's RSS (all its processes) before and after, also per 10 000 sessions.

`--workers N` runs `kluis serve --workers N` (N app processes on one port). The clients talk
HTTP through `plain_http` (HTTP/1.1 on a plain socket, one kept-alive connection per client),
which costs the machine less of the CPU it shares with the server than httpx;
`--client httpx` runs them on httpx as before.

No peer verifier is available offline, so only Kluis's figures are printed. A benchmark, not
a test: it never fails on time (exit 1 only when a measurement could not be taken).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bench.procstat import cpu_seconds, rss_bytes  # noqa: E402
from bench.verifier.plain_http import PlainClient  # noqa: E402
from tests.support.databases import drop_database  # noqa: E402
from tests.support.server import LiveServer, run_server  # noqa: E402
from tests.support.wallet import StoredCredential, Wallet  # noqa: E402

CLAIMS = {
    "postcode": "1087AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "letter",
}


def database_url(work: Path) -> str:
    """SQLite in the work dir, or a fresh schema in KLUIS_BENCH_DATABASE_URL (PostgreSQL)."""
    base = os.environ.get("KLUIS_BENCH_DATABASE_URL")
    if not base:
        return f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ["KLUIS_TEST_DATABASE_URL"] = base
    from tests.support.databases import fresh_database_url

    return fresh_database_url(work)


def provision(server: LiveServer) -> tuple[tuple[str, str], StoredCredential, dict[str, Any]]:
    server.cli("accounts", "add", "--email", "bench@example.org", "--json")
    args = ["attestations", "offer", "--account", "bench@example.org", "--type", "postcode"]
    offer = json.loads(server.cli(*args, "--claims", json.dumps(CLAIMS), "--json").stdout)
    client_args = ["clients", "add", "--name", "Bench", "--redirect-uri", "https://b.example/cb"]
    client = json.loads(server.cli(*client_args, "--json").stdout)
    with Wallet.over_http(server.url) as wallet:
        [stored] = wallet.accept(offer["offer_uri"], offer["tx_code"])
    body = {
        "purpose": "Benchmark",
        "dcql_query": {
            "credentials": [
                {
                    "id": "residence",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [f"{server.url}/vct/postcode"]},
                    "claims": [{"path": ["postcode_area"]}],
                }
            ]
        },
    }
    return (client["client_id"], client["client_secret"]), stored, body


def one_verification(
    platform: Any,
    wallet: Wallet,
    body: dict[str, Any],
    auth: tuple[str, str],
    request_id: str,
) -> None:
    """One verification; its four requests carry `request_id` (the server logs their time)."""
    tag = {"X-Request-Id": request_id}
    created = platform.post("/verifier/sessions", json=body, auth=auth, headers=tag)
    created.raise_for_status()
    session = created.json()
    wallet.http.headers.update(tag)
    answer = wallet.present(session["qr_payload"], [("postcode_area",)])
    if answer.status_code != 200:
        raise RuntimeError(f"presentation refused: {answer.text}")
    status = platform.get(session["status_url"], auth=auth, headers=tag).json()
    if status.get("status") != "done" or "result" not in status:
        raise RuntimeError(f"no result: {status}")


def throughput(
    server: LiveServer,
    auth: tuple[str, str],
    stored: StoredCredential,
    body: dict[str, Any],
    seconds: float,
    warmup: float,
    concurrency: int,
    client: str = "plain",
) -> dict[str, Any]:
    latencies: list[float] = []
    measured: set[str] = set()
    completed = [0]  # all verifications, warm-up included: what the CPU figures cover
    lock = threading.Lock()
    start_at = time.monotonic() + warmup
    stop_at = start_at + seconds
    server_cpu, client_cpu = cpu_seconds(server.process.pid), time.process_time()

    def worker(number: int) -> None:
        count = 0
        with contextlib.ExitStack() as stack:
            platform: Any
            if client == "httpx":
                platform = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
                wallet = stack.enter_context(Wallet.over_http(server.url))
            else:  # the same requests through a lighter client (`plain_http`)
                platform = stack.enter_context(PlainClient(server.url))
                wallet = Wallet(stack.enter_context(PlainClient(server.url)), origin=server.url)
            wallet.credentials.append(stored)
            while (now := time.monotonic()) < stop_at:
                count += 1
                request_id = f"bench-{concurrency}-{number}-{count}"
                one_verification(platform, wallet, body, auth, request_id)
                with lock:
                    completed[0] += 1
                if now >= start_at:
                    with lock:
                        latencies.append(time.monotonic() - now)
                        measured.add(request_id)

    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker, i) for i in range(concurrency)]:
            future.result()
    server_cpu = cpu_seconds(server.process.pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    if not latencies:
        raise RuntimeError("no verification completed")
    ordered = sorted(latencies)
    server_ms = server_times(server.log_path, measured)
    return {
        "concurrency": concurrency,
        "verifications": len(latencies),
        "per_second": len(latencies) / seconds,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        "server_p50_ms": percentile(server_ms, 0.50),
        "server_p99_ms": percentile(server_ms, 0.99),
        "server_cpu_ms": server_cpu * 1000 / completed[0],
        "client_cpu_ms": client_cpu * 1000 / completed[0],
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def server_times(log_path: Path, request_ids: set[str]) -> list[float]:
    """Server time of each verification: the sum of the `ms` of its four logged requests."""
    totals: dict[str, float] = {}
    seen: dict[str, int] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if '"request"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        rid = entry.get("request_id")
        if entry.get("msg") == "request" and rid in request_ids:
            totals[rid] = totals.get(rid, 0.0) + float(entry["ms"])
            seen[rid] = seen.get(rid, 0) + 1
    return [ms for rid, ms in totals.items() if seen[rid] == 4]


def table_bytes(url: str) -> tuple[int, int]:
    """(bytes of verifier_sessions with its indexes, rows)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = int(conn.execute(text("SELECT count(*) FROM verifier_sessions")).scalar_one())
            if engine.dialect.name == "postgresql":
                size = conn.execute(
                    text("SELECT pg_total_relation_size('verifier_sessions')")
                ).scalar_one()
            else:
                size = conn.execute(
                    text(
                        "SELECT sum(pgsize) FROM dbstat WHERE name = 'verifier_sessions' "
                        "OR name IN (SELECT name FROM sqlite_master "
                        "WHERE tbl_name = 'verifier_sessions' AND type = 'index')"
                    )
                ).scalar_one()
            return int(size or 0), rows
    finally:
        engine.dispose()


def pending_memory(
    server: LiveServer, url: str, auth: tuple[str, str], body: dict[str, Any], count: int
) -> dict[str, Any]:
    pid = server.process.pid
    bytes_before, rows_before = table_bytes(url)
    rss_before = rss_bytes(pid)
    started = time.monotonic()

    def create(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as platform:
            for _ in range(n):
                platform.post("/verifier/sessions", json=body, auth=auth).raise_for_status()

    workers = 4
    with ThreadPoolExecutor(workers) as pool:
        shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
        for future in [pool.submit(create, n) for n in shares]:
            future.result()
    elapsed = time.monotonic() - started
    bytes_after, rows_after = table_bytes(url)
    rss_after = rss_bytes(pid)
    added = rows_after - rows_before
    return {
        "pending_sessions": added,
        "creation_per_second": added / elapsed,
        "db_bytes_per_session": (bytes_after - bytes_before) / added,
        "db_bytes_total": bytes_after,
        "rss_before_mib": rss_before / 2**20,
        "rss_after_mib": rss_after / 2**20,
        "rss_delta_bytes_per_session": (rss_after - rss_before) / added,
        "db_mib_per_10k_sessions": (bytes_after - bytes_before) / added * 10_000 / 2**20,
        "rss_delta_mib_per_10k_sessions": (rss_after - rss_before) / added * 10_000 / 2**20,
    }


def report(label: str, figures: dict[str, Any]) -> None:
    print(f"\n{label}")
    for key, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"  {key:<30} {shown}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", default="1,4", help="comma-separated thread counts")
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1, help="app processes (kluis serve)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--client",
        choices=("plain", "httpx"),
        default="plain",
        help="the load generator's HTTP client: plain_http (default, less client CPU) or httpx",
    )
    args = parser.parse_args()
    figures: dict[str, Any] = {
        "peer": "none available offline: Kluis only",
        "workers": args.workers,
        "client": args.client,
    }
    with tempfile.TemporaryDirectory(prefix="kluis-bench-verifier-") as tmp:
        work = Path(tmp)
        url = database_url(work)
        # INFO: the request log lines carry each request's server time (`ms`)
        env = {"KLUIS_LOG_LEVEL": "INFO", "KLUIS_VERIFIER_SESSION_TTL": "3600"}
        try:
            with run_server(work / "data", url, workers=args.workers, **env) as server:
                auth, stored, body = provision(server)
                backend = url.split(":", 1)[0]
                print(
                    f"Kluis verifier on {server.url} ({backend}, {args.workers} worker(s), "
                    f"{args.client} client)"
                )
                figures["throughput"] = []
                for concurrency in (int(c) for c in args.concurrency.split(",")):
                    result = throughput(
                        server,
                        auth,
                        stored,
                        body,
                        args.seconds,
                        args.warmup,
                        concurrency,
                        args.client,
                    )
                    figures["throughput"].append(result)
                    report(f"end to end, {concurrency} client thread(s)", result)
                if args.pending:
                    figures["pending"] = pending_memory(server, url, auth, body, args.pending)
                    report(f"{args.pending:,} pending sessions", figures["pending"])
        finally:
            if not url.startswith("sqlite"):
                drop_database(url)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
