"""OIDC flow benchmark: Kluis and node oidc-provider, side by side, in one run on this machine.

    .venv/bin/python bench/oidc_flow/run.py --seconds 10

For each provider, each scenario and each number of concurrent workers (separate processes,
each its own browser session and client), for a bounded time after a short warm-up:

- sso:     single sign-on code flows/s with an existing session and remembered consent
           (authorize → code → token with PKCE and ID token check → userinfo);
- refresh: refresh_token grants/s, each worker following its own rotating chain.

Providers run one after the other (or, with `--rounds R`, all at once, measured in turns of
`--seconds`/R each, so that a burst of other work on the machine falls on all of them alike),
on loopback only: Kluis as one process with RS256 ID tokens
(`kluis`), as two (`kluis-2w`, `kluis serve --workers 2`), as one with ES256 ID tokens
(`kluis-es256`), node oidc-provider with its in-memory store (`oidc-provider`, the peer), and
the same with a durable SQL store where Kluis keeps its data (`oidc-provider-sql`). Prints
flows/s, refreshes/s, latencies and each Kluis row's ratio to each peer. A benchmark, not a
test: it never fails on time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.oidc_flow.drivers import (  # noqa: E402
    DRIVERS,
    PEER,
    PEER_SETUP,
    SQL_PEER,
    SQL_PEER_SETUP,
    OPDriver,
)
from bench.oidc_flow.flows import BenchRP, Target  # noqa: E402
from bench.procstat import cpu_seconds  # noqa: E402

SCENARIOS = {
    "sso": "SSO code flow (authorize, token, userinfo)",
    "refresh": "refresh token grant (rotating)",
}
SETUP_TIMEOUT_S = 120.0
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_MESSAGES = 3


@dataclass
class Measurement:
    provider: str
    scenario: str
    workers: int
    seconds: float
    count: int = 0
    errors: int = 0
    messages: list[str] = field(default_factory=list)
    p50_ms: float | None = None
    p95_ms: float | None = None
    failed: str | None = None
    ops: int = 0  # every operation after the start line, warm-up included
    server_cpu_s: float = 0.0  # the server's CPU time over the same span
    latencies: list[float] = field(default_factory=list, repr=False)  # seconds, not reported

    @property
    def per_second(self) -> float | None:
        return None if self.failed else self.count / self.seconds

    @property
    def server_cpu_ms(self) -> float | None:
        """The server's CPU per operation (its processes only: not PostgreSQL's)."""
        return None if self.failed or not self.ops else self.server_cpu_s * 1000 / self.ops


def worker_main(
    driver: OPDriver,
    target: Target,
    scenario: str,
    warmup: float,
    seconds: float,
    barrier: Any,
    setup_lock: Any,
    results: Any,
) -> None:
    """One worker process: its own session (first login), then the scenario in a loop."""
    out: dict[str, Any] = {"count": 0, "ops": 0, "errors": 0, "messages": [], "latencies": []}
    rp = None
    try:
        # The interactive logins are setup, not measured: one at a time.
        with setup_lock:
            rp = BenchRP(target)
            rp.login(driver.first_login)
        barrier.wait(timeout=SETUP_TIMEOUT_S)
    except Exception as error:
        out["setup_error"] = f"{type(error).__name__}: {error}"
        with contextlib.suppress(Exception):
            barrier.abort()
        results.put(out)
        if rp is not None:
            rp.close()
        return
    operation = rp.sso_flow if scenario == "sso" else rp.refresh
    start = time.perf_counter() + warmup
    end = start + seconds
    while (began := time.perf_counter()) < end:
        try:
            operation()
        except Exception as error:
            out["errors"] += 1
            if len(out["messages"]) < MAX_MESSAGES:
                out["messages"].append(f"{type(error).__name__}: {error}"[:300])
            if scenario == "refresh":  # a broken chain: start a new one, uncounted
                with contextlib.suppress(Exception):
                    rp.sso_flow()
            continue
        finished = time.perf_counter()
        out["ops"] += 1
        if began >= start and finished <= end:
            out["count"] += 1
            out["latencies"].append(finished - began)
    rp.close()
    results.put(out)


def measure(
    driver: OPDriver, target: Target, scenario: str, workers: int, warmup: float, seconds: float
) -> Measurement:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)  # the workers and this process: the start line
    results = ctx.Queue()
    args = (driver, target, scenario, warmup, seconds, barrier, ctx.Lock(), results)
    processes = [ctx.Process(target=worker_main, args=args, daemon=True) for _ in range(workers)]
    measurement = Measurement(driver.name, scenario, workers, seconds)
    outs: list[dict[str, Any]] = []
    try:
        for process in processes:
            process.start()
        cpu_start = _server_cpu(target)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=SETUP_TIMEOUT_S)  # every worker logged in
            cpu_start = _server_cpu(target)
        deadline = time.monotonic() + SETUP_TIMEOUT_S + warmup + seconds
        while len(outs) < workers:
            try:
                outs.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                measurement.failed = "workers did not report in time"
                break
        measurement.server_cpu_s = _server_cpu(target) - cpu_start
        for process in processes:
            process.join(timeout=10)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
    setup_errors = [o["setup_error"] for o in outs if "setup_error" in o]
    if setup_errors:
        measurement.failed = "worker setup failed: " + setup_errors[0]
    latencies = sorted(t for o in outs for t in o["latencies"])
    measurement.count = sum(o["count"] for o in outs)
    measurement.ops = sum(o.get("ops", 0) for o in outs)
    measurement.errors = sum(o["errors"] for o in outs)
    measurement.messages = [m for o in outs for m in o["messages"]][:MAX_MESSAGES]
    measurement.latencies = latencies
    _percentiles(measurement)
    return measurement


def _server_cpu(target: Target) -> float:
    return 0.0 if target.server_pid is None else cpu_seconds(target.server_pid)


def _percentiles(measurement: Measurement) -> None:
    latencies = sorted(measurement.latencies)
    if len(latencies) >= 2:
        measurement.p50_ms = statistics.median(latencies) * 1000
        measurement.p95_ms = statistics.quantiles(latencies, n=20)[-1] * 1000


def _merge(total: Measurement | None, part: Measurement) -> Measurement:
    """One provider's turns of one scenario and concurrency, added up."""
    if total is None:
        return part
    total.seconds += part.seconds
    total.count += part.count
    total.ops += part.ops
    total.server_cpu_s += part.server_cpu_s
    total.errors += part.errors
    total.messages = (total.messages + part.messages)[:MAX_MESSAGES]
    total.failed = total.failed or part.failed
    total.latencies += part.latencies
    _percentiles(total)
    return total


def run_interleaved(
    drivers: list[OPDriver],
    concurrency: list[int],
    warmup: float,
    seconds: float,
    rounds: int,
    keep: Path | None = None,
) -> list[Measurement]:
    """All providers running at once; each scenario and concurrency measured in `rounds`
    turns of seconds/rounds per provider, the providers' order reversed every other round."""
    totals: dict[tuple[str, str, int], Measurement] = {}
    with contextlib.ExitStack() as stack:
        targets: dict[str, Target] = {}
        for driver in drivers:
            print(f"== {driver.name}: starting", file=sys.stderr, flush=True)
            try:
                work = stack.enter_context(work_directory(keep, driver.name))
                targets[driver.name] = _on_loopback(
                    driver, stack.enter_context(driver.running(work))
                )
            except Exception as error:
                for m in _failed(driver, concurrency, seconds, error, []):
                    totals[(driver.name, m.scenario, m.workers)] = m
        running = [d for d in drivers if d.name in targets]
        for turn in range(rounds):
            order = running if turn % 2 == 0 else running[::-1]
            for scenario in SCENARIOS:
                for workers in concurrency:
                    print(
                        f"   round {turn + 1}/{rounds}: {scenario} x{workers}",
                        file=sys.stderr,
                        flush=True,
                    )
                    for driver in order:
                        key = (driver.name, scenario, workers)
                        part = measure(
                            driver,
                            targets[driver.name],
                            scenario,
                            workers,
                            warmup,
                            seconds / rounds,
                        )
                        totals[key] = _merge(totals.get(key), part)
    return [
        totals[(d.name, scenario, workers)]
        for d in drivers
        for scenario in SCENARIOS
        for workers in concurrency
        if (d.name, scenario, workers) in totals
    ]


@contextlib.contextmanager
def work_directory(keep: Path | None, name: str) -> Iterator[Path]:
    if keep is None:
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
            yield Path(tmp)
        return
    path = keep / name
    path.mkdir(parents=True, exist_ok=True)
    yield path


def run_provider(
    driver: OPDriver,
    concurrency: list[int],
    warmup: float,
    seconds: float,
    keep: Path | None = None,
) -> list[Measurement]:
    print(f"== {driver.name}: starting", file=sys.stderr, flush=True)
    measurements = []
    with work_directory(keep, driver.name) as work:
        try:
            with driver.running(work) as target:
                _on_loopback(driver, target)
                for scenario in SCENARIOS:
                    for workers in concurrency:
                        print(
                            f"   {scenario} x{workers} ({warmup + seconds:.0f} s)",
                            file=sys.stderr,
                            flush=True,
                        )
                        measurements.append(
                            measure(driver, target, scenario, workers, warmup, seconds)
                        )
        except Exception as error:
            measurements += _failed(driver, concurrency, seconds, error, measurements)
    return measurements


def _on_loopback(driver: OPDriver, target: Target) -> Target:
    host = target.issuer.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")
    if host not in LOOPBACK:
        raise RuntimeError(f"{driver.name} is not on loopback: {target.issuer}")
    return target


def _failed(
    driver: OPDriver,
    concurrency: list[int],
    seconds: float,
    error: Exception,
    done: list[Measurement],
) -> list[Measurement]:
    """Says why `driver` failed, and a failed measurement for each one not taken yet."""
    print(f"== {driver.name} failed:\n{traceback.format_exc()}", file=sys.stderr)
    reason = f"{type(error).__name__}: {error}"
    taken = {(m.scenario, m.workers) for m in done}
    return [
        Measurement(driver.name, scenario, workers, seconds, failed=reason)
        for scenario in SCENARIOS
        for workers in concurrency
        if (scenario, workers) not in taken
    ]


def environment(drivers: list[OPDriver]) -> dict[str, Any]:
    node = shutil.which("node")
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout if node else ""
    )
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout
    return {
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "node": node_version.strip() or None,
        "kluis_commit": commit.strip() or None,
        "providers": {d.name: d.describe() for d in drivers},
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(results: list[Measurement], env: dict[str, Any], args: argparse.Namespace) -> str:
    """One row per scenario, number of concurrent clients and provider, with each Kluis
    variant's ratio to each peer measured in the same run."""
    names = list(env["providers"])
    peers = [name for name in (PEER, SQL_PEER) if name in names]
    lines = [
        f"OIDC flow benchmark: {args.seconds:g} s per measurement after {args.warmup:g} s "
        f"warm-up, loopback, {env['cpus']} CPUs, client: Python {env['python']} + httpx "
        f"(one process per concurrent client), node {env['node']}, Kluis {env['kluis_commit']}",
        *(f"  {name:<17} {desc}" for name, desc in env["providers"].items()),
        "",
        f"{'scenario':<44} {'clients':>7} {'provider':<17} {'ops/s':>8} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'CPU ms/op':>9}" + "".join(f" {'/' + p:>18}" for p in peers),
    ]
    by_key = {(m.provider, m.scenario, m.workers): m for m in results}
    for scenario, label in SCENARIOS.items():
        for workers in args.concurrency:
            for name in names:
                m = by_key[(name, scenario, workers)]
                ratios = ""
                for p in peers:
                    peer = by_key.get((p, scenario, workers))
                    ratio = None
                    if name not in peers and peer and peer.per_second and m.per_second:
                        ratio = m.per_second / peer.per_second
                    ratios += f" {_fmt(ratio, 2):>18}"
                lines.append(
                    f"{label:<44} {workers:>7} {name:<17} {_fmt(m.per_second):>8} "
                    f"{_fmt(m.p50_ms, 2):>7} {_fmt(m.p95_ms, 2):>7} {_fmt(m.server_cpu_ms, 2):>9}"
                    + ratios
                )
    if PEER in names:
        lines.append(f"  (the peer, {PEER}, runs with its {PEER_SETUP})")
    if SQL_PEER in names:
        lines.append(f"  ({SQL_PEER}: the same, with {SQL_PEER_SETUP})")
    lines.append(
        "  CPU ms/op: the server's processes' CPU time per operation (warm-up included; "
        "not the database server's)"
    )
    problems = [m for m in results if m.failed or m.errors]
    if problems:
        lines.append("")
        for m in problems:
            what = m.failed or f"{m.errors} errors, e.g. {m.messages}"
            lines.append(f"! {m.provider} {m.scenario} x{m.workers}: {what}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time before it")
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(n) for n in s.split(",")],
        default=[1, 4],
        help="numbers of concurrent workers, comma-separated (default 1,4)",
    )
    parser.add_argument(
        "--providers",
        type=lambda s: s.split(","),
        default=list(DRIVERS),
        help=f"comma-separated subset of {','.join(DRIVERS)}",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="1: providers one after the other; R > 1: all at once, in R turns each",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--work-dir", type=Path, help="keep databases and server logs here (default: temporary)"
    )
    args = parser.parse_args(argv)
    unknown = set(args.providers) - set(DRIVERS)
    if unknown:
        parser.error(f"unknown provider(s): {', '.join(sorted(unknown))}")
    drivers = [DRIVERS[name]() for name in args.providers]
    env = environment(drivers)
    if args.rounds > 1:
        results = run_interleaved(
            drivers, args.concurrency, args.warmup, args.seconds, args.rounds, args.work_dir
        )
    else:
        results = [
            m
            for d in drivers
            for m in run_provider(d, args.concurrency, args.warmup, args.seconds, args.work_dir)
        ]
    print(report(results, env, args))
    if args.json:
        arguments = {"seconds": args.seconds, "warmup": args.warmup, "rounds": args.rounds}
        payload = {
            "environment": env,
            "arguments": arguments,
            "results": [
                {
                    **{k: v for k, v in asdict(m).items() if k != "latencies"},
                    "per_second": m.per_second,
                    "server_cpu_ms": m.server_cpu_ms,
                }
                for m in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2))
    # Slow is never a failure; a harness that could not measure is.
    return 1 if any(m.failed for m in results) else 0


if __name__ == "__main__":
    sys.exit(main())
