"""Soak: a bounded mixed load on two app processes sharing one database (#15).

    .venv/bin/python bench/soak/run.py --seconds 600 --workers 4

Two `kluis serve` processes (one data directory, one database: SQLite, or a fresh schema in
KLUIS_BENCH_DATABASE_URL for PostgreSQL) take, from `--workers` client threads spread over
both, a mix of what residents and platforms do:

| op | one operation |
|---|---|
| login | a whole code flow: authorize, password login, consent, /token (PKCE), /userinfo |
| failed_login | a wrong password for an unknown address (answered 400) |
| verify | a platform creates a verification session, reads its status, cancels it |
| issue | a wallet redeems a prepared credential offer (token with tx_code, nonce, credential) |
| metadata | discovery, issuer metadata and the JWKS |

Every 5 s it samples each server's resident memory (VmRSS). At the end it prints operations,
errors (any unexpected status or exception), p50/p99 latency per op, the memory of each
process over time with the growth from the middle to the last third of the run (the first
third is warm-up), and runs `kluis audit verify`. Not a test: it never fails on time or
memory; exit 1 only when the run could not be made, or on errors, so that a bad soak shows.

No peer runs here: a soak measures Kluis against itself over time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.verifier.run import database_url  # noqa: E402
from tests.support.databases import drop_database  # noqa: E402
from tests.support.mixed_load import UNLIMITED_ENV, MixedLoad  # noqa: E402
from tests.support.server import LiveServer, run_server  # noqa: E402

SAMPLE_EVERY = 5.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--residents", type=int, default=8)
    parser.add_argument("--offers", type=int, default=40)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kluis-soak-"))
    url = database_url(work)
    data = work / "data"
    env = {"KLUIS_LOG_LEVEL": "WARNING", **UNLIMITED_ENV}
    try:
        # One host, two ports: the processes have different issuer URLs and so different
        # checkpoint keys, which one deployment never has. Only the first runs the background
        # worker (outbox and checkpoints), so every checkpoint is signed under one issuer.
        second = {**env, "KLUIS_OUTBOX_WORKER": "false"}
        with run_server(data, url, **env) as a, run_server(data, url, "second.log", **second) as b:
            print(
                f"soak: 2 processes on {url.split(':')[0]}, {args.workers} workers, "
                f"{args.seconds:.0f} s; preparing residents and offers …",
                flush=True,
            )
            soak = MixedLoad((a, b), args.residents, args.offers)
            result = run(soak, (a, b), args)
            audit = a.cli("audit", "verify", check=False)
    finally:
        if url.startswith("postgresql"):
            drop_database(url)
    report(result, audit.returncode, audit.stdout.strip().splitlines()[-1:] or [""], args)
    return 0 if not result["errors"] and audit.returncode == 0 else 1


def run(soak: MixedLoad, servers: tuple[LiveServer, LiveServer], args: argparse.Namespace) -> dict:
    ops: list[tuple[str, Callable[[str, int], str | None]]] = [
        ("login", soak.login),
        ("failed_login", soak.failed_login),
        ("verify", soak.verify),
        ("verify", soak.verify),
        ("issue", soak.issue),
        ("metadata", soak.metadata),
    ]
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    memory: list[tuple[float, int, int]] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + args.seconds
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            memory.append(
                (
                    time.monotonic() - started,
                    rss_kib(servers[0].process.pid),
                    rss_kib(servers[1].process.pid),
                )
            )
            stop.wait(SAMPLE_EVERY)

    def worker(w: int) -> None:
        for n in itertools.count(w, args.workers):
            if time.monotonic() >= deadline:
                return
            name, op = ops[n % len(ops)]
            t0 = time.perf_counter()
            try:
                name = op(soak.base(n), n) or name
            except Exception as exc:  # counted, and the soak goes on
                with lock:
                    errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            with lock:
                latencies[name].append(time.perf_counter() - t0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(worker, range(args.workers)))
    stop.set()
    sampler.join()
    memory.append(
        (
            time.monotonic() - started,
            rss_kib(servers[0].process.pid),
            rss_kib(servers[1].process.pid),
        )
    )
    return {
        "latencies": latencies,
        "errors": errors,
        "memory": memory,
        "elapsed": time.monotonic() - started,
    }


def _p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
        if len(values) > 1
        else values[0]
    )


def report(result: dict, audit_rc: int, audit_line: list[str], args: argparse.Namespace) -> None:
    latencies, errors, memory = result["latencies"], result["errors"], result["memory"]
    total = sum(len(v) for v in latencies.values())
    print(
        f"\n{total} operations in {result['elapsed']:.0f} s ({total / result['elapsed']:.1f}/s), "
        f"{len(errors)} errors"
    )
    print(f"{'op':<14}{'count':>7}{'p50 ms':>10}{'p99 ms':>10}")
    for name in sorted(latencies):
        values = latencies[name]
        p50, p99 = _p(values, 50) * 1000, _p(values, 99) * 1000
        print(f"{name:<14}{len(values):>7}{p50:>10.1f}{p99:>10.1f}")
    print("\nmemory (VmRSS MiB) over time:  t  process-1  process-2")
    step = max(1, len(memory) // 10)
    for t, one, two in memory[::step] + ([memory[-1]] if len(memory) % step else []):
        print(f"  {t:6.0f} s  {one / 1024:8.1f}  {two / 1024:8.1f}")
    # the first third is warm-up (imports, caches, connection pools); growth after it is what
    # a leak would show
    third = max(1, len(memory) // 3)
    for index in (1, 2):
        middle = statistics.mean(m[index] for m in memory[third : 2 * third] or memory) / 1024
        late = statistics.mean(m[index] for m in memory[-third:]) / 1024
        print(
            f"process-{index}: middle third {middle:.1f} MiB, last third {late:.1f} MiB "
            f"({(late - middle) / middle * 100:+.1f} %)"
        )
    print(f"kluis audit verify: exit {audit_rc} {audit_line[0]}")
    for error in errors[:10]:
        print("error:", error)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "operations": {k: len(v) for k, v in latencies.items()},
                    "p99_ms": {k: _p(v, 99) * 1000 for k, v in latencies.items()},
                    "errors": errors,
                    "memory_kib": memory,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
