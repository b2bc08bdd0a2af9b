"""Issue #14's table in one command: runs each benchmark once, side by side with its peer, and
prints every row with the ratio Kluis / peer and the goal it is held to.

    .venv/bin/python bench/issue14.py
    KLUIS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/issue14.py
    .venv/bin/python bench/issue14.py --compare /tmp/run1 /tmp/run2   # runs side by side

Without KLUIS_BENCH_DATABASE_URL the PostgreSQL rows are left out (the verifier row then runs
on SQLite). Each benchmark runs as its own process (`bench/<name>/run.py --json`), one after
the other; its own output goes to `<work dir>/<name>.txt`. `--json FILE` writes the table.
Not a test: it reports, it never fails on time (exit 1 only when a benchmark could not run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG_ENV = "KLUIS_BENCH_DATABASE_URL"


@dataclass
class Row:
    workload: str
    peer: str
    figure: str  # what was measured, with units
    ratio: float | None  # Kluis / peer (above 1: Kluis is faster)
    goal: str
    met: bool | None


def run_bench(name: str, args: list[str], work: Path, pg: bool) -> dict[str, Any]:
    out = work / f"{name}.json"
    env = dict(os.environ)
    if not pg:
        env.pop(PG_ENV, None)
    command = [sys.executable, str(ROOT / "bench" / name.split("-")[0] / "run.py")]
    with (work / f"{name}.txt").open("w") as log:
        print(f"== {name}: {' '.join(args)}", flush=True)
        command += [*args, "--json", str(out)]
        done = subprocess.run(command, stdout=log, stderr=log, env=env, check=False)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"{name} failed (exit {done.returncode}); see {work / name}.txt")
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


# The issue's peer, oidc-provider with its in-memory store, and beside it the same provider
# with a durable SQL store where Kluis keeps its data: its rows are not the issue's goal,
# they inform the decision on it (bench/README.md, "What the short rows need").
OIDC_PEERS = (
    ("oidc-provider", "node oidc-provider (in-memory store)", ""),
    ("oidc-provider-sql", "node oidc-provider (durable SQL store)", ", vs the durable peer"),
)


def oidc_rows(figures: dict[str, Any], database: str) -> list[Row]:
    results = {(r["provider"], r["scenario"], r["workers"]): r for r in figures["results"]}
    rows = []
    for peer_name, peer_label, suffix in OIDC_PEERS:
        goal_held = peer_name == OIDC_PEERS[0][0]
        for scenario, label in (("sso", "OIDC SSO code flow"), ("refresh", "OIDC refresh grant")):
            for clients in (1, 4):
                peer = results.get((peer_name, scenario, clients))
                for provider in ("kluis", "kluis-2w", "kluis-es256"):
                    ours = results.get((provider, scenario, clients))
                    if not ours or not peer or not peer["per_second"]:
                        continue
                    ratio = ours["per_second"] / peer["per_second"]
                    rows.append(
                        Row(
                            f"{label}, {database}, {clients} client(s), {provider}{suffix}",
                            peer_label,
                            f"{ours['per_second']:.1f} vs {peer['per_second']:.1f} /s"
                            + _cpu(ours, peer),
                            ratio,
                            ">= 1.0" if goal_held else "— (not the issue's goal)",
                            (ratio >= 1.0) if goal_held else None,
                        )
                    )
    return rows


def _cpu(ours: dict[str, Any], peer: dict[str, Any]) -> str:
    """The servers' CPU per operation, when the run measured it (not PostgreSQL's own)."""
    if ours.get("server_cpu_ms") is None or peer.get("server_cpu_ms") is None:
        return ""
    return f"; CPU {ours['server_cpu_ms']:.2f} vs {peer['server_cpu_ms']:.2f} ms/op"


def sdjwt_rows(figures: dict[str, Any]) -> list[Row]:
    per = {(r["operation"], r["implementation"]): r["per_second"] for r in figures["results"]}
    issue = per[("issue", "kluis")] / per[("issue", "reference")]
    verify = per[("verify", "kluis")] / per[("verify", "reference")]
    floor = per[("verify", "kluis")] / per[("verify", "floor")]
    return [
        Row(
            "SD-JWT VC issue",
            "reference sd-jwt",
            f"{per[('issue', 'kluis')]:,.0f} vs {per[('issue', 'reference')]:,.0f} /s",
            issue,
            ">= 3",
            issue >= 3,
        ),
        Row(
            "SD-JWT VC verify (SD-JWT + KB-JWT)",
            "reference sd-jwt",
            f"{per[('verify', 'kluis')]:,.0f} vs {per[('verify', 'reference')]:,.0f} /s; "
            f"{floor:.2f} of the two-ES256 floor",
            verify,
            ">= 2.2 and >= 0.75 of floor",
            verify >= 2.2 and floor >= 0.75,
        ),
    ]


def verifier_rows(figures: dict[str, Any], database: str) -> list[Row]:
    rows = []
    for result in figures["throughput"]:
        rate, p99 = result["per_second"], result.get("server_p99_ms")
        met = rate >= 150 and p99 is not None and p99 < 50
        rows.append(
            Row(
                f"QR verification end to end, {database}, {figures['workers']} processes, "
                f"{result['concurrency']} client(s)",
                "none offline",
                f"{rate:.1f} /s; server p50/p99 {result.get('server_p50_ms', 0):.1f}/"
                f"{p99 or 0:.1f} ms",
                None,
                ">= 150/s on PostgreSQL, 2 processes; p99 < 50 ms",
                met if database == "postgresql" else None,
            )
        )
    pending = figures.get("pending")
    if pending:
        db_mib = pending["db_mib_per_10k_sessions"]
        rss_mib = max(pending["rss_delta_mib_per_10k_sessions"], 0.0)
        total = (db_mib + rss_mib) * 2**20 / 1e6
        rows.append(
            Row(
                f"memory per 10 000 pending sessions, {database}",
                "none offline",
                f"{db_mib:.1f} MiB in the database + {rss_mib:.1f} MiB server RSS growth",
                None,
                "< 200 MB",
                total < 200,
            )
        )
    return rows


def audit_rows(figures: dict[str, Any], database: str) -> list[Row]:
    rows = []
    many, peer = figures.get("record_many_per_second"), figures.get("pymerkle_appends_per_second")
    if many and peer:
        by_cpu = figures["pymerkle_append_cpu_us"] / figures["record_many_cpu_us"]
        rows.append(
            Row(
                f"audit appends, record_many of 1,000, {database}",
                "pymerkle SqliteTree",
                f"{many:,.0f} vs {peer:,.0f} /s; by CPU time per entry {by_cpu:.2f}",
                many / peer,
                ">= 0.5",
                many / peer >= 0.5,
            )
        )
    verify = figures.get("verify_entries_per_second")
    if verify:
        rows.append(
            Row(
                f"audit full verify, {database}, {figures['verify_workers']} process(es)",
                "pymerkle root rebuild",
                f"{verify:,.0f} entries/s",
                None,
                ">= 300 000 entries/s",
                verify >= 300_000,
            )
        )
    return rows


Plan = list[tuple[str, list[str], bool, Callable[[dict[str, Any]], list[Row]]]]


def build_plan(pg: bool, seconds: str, rounds: int) -> Plan:
    """Each benchmark: its name (and output file), arguments, whether it runs on PostgreSQL,
    and how its figures become rows."""
    # the OIDC providers measured in turns, so that other work on the machine falls on all
    oidc_args = ["--seconds", seconds, "--rounds", str(rounds)]
    plan: Plan = [("oidc_flow-sqlite", oidc_args, False, lambda f: oidc_rows(f, "SQLite"))]
    if pg:
        plan.append(("oidc_flow-pg", oidc_args, True, lambda f: oidc_rows(f, "PostgreSQL")))
    plan.append(("sdjwt", ["--seconds", seconds], False, sdjwt_rows))
    for database, on_pg in (("SQLite", False), ("PostgreSQL", True)):
        if on_pg and not pg:
            continue
        name = f"audit-{'pg' if on_pg else 'sqlite'}"
        plan.append(
            (
                name,
                # --freeze-gc: as in `kluis serve`, which freezes its start-up objects;
                # verification with the processes `kluis audit verify` picks on this machine
                # when idle (2 cores: 2 on SQLite, 1 with PostgreSQL on the same cores)
                ["--entries", "200000", "--verify-workers", "idle", "--freeze-gc"],
                on_pg,
                lambda f, database=database: audit_rows(f, database),  # type: ignore[misc]
            )
        )
    database = "postgresql" if pg else "sqlite"
    plan.append(
        (
            "verifier",
            ["--seconds", seconds, "--workers", "2", "--pending", "10000"],
            pg,
            lambda f: verifier_rows(f, database),
        )
    )
    return plan


def collect(plan: Plan, work: Path, run: bool) -> tuple[list[Row], bool]:
    """The rows of every benchmark of `plan`, run now or read from `work`; and whether one
    of them could not be had."""
    rows: list[Row] = []
    failed = False
    for name, bench_args, on_pg, to_rows in plan:
        try:
            if run:
                figures = run_bench(name, bench_args, work, on_pg)
            else:
                figures = json.loads((work / f"{name}.json").read_text())
            rows += to_rows(figures)
        except Exception as exc:  # one benchmark that cannot run does not hide the others
            print(f"! {name}: {exc}", file=sys.stderr)
            failed = True
    return rows, failed


def _met(met: bool | None) -> str:
    return {True: "yes", False: "no", None: "—"}[met]


def compare(works: list[Path]) -> bool:
    """One table of the runs in `works` side by side (as bench/README.md keeps them): each
    row's figures and ratio per run, and whether its goal was met in all of them."""
    runs: list[dict[str, Row]] = []
    failed = False
    for work in works:
        pg = (work / "oidc_flow-pg.json").exists()
        rows, missing = collect(build_plan(pg, "0", 0), work, run=False)
        runs.append({row.workload: row for row in rows})
        failed = failed or missing
    header = " | ".join(f"run {k}: measured (Kluis / peer)" for k in range(1, len(works) + 1))
    print(f"| workload | goal | {header} | met in all |")
    print("|---|---|" + "---|" * len(works) + "---|")
    # every row of any run, in the order the runs first give them (an older run may lack
    # rows a newer one has, such as the durable peer's)
    workloads: dict[str, Row] = {}
    for run in runs:
        for workload, row in run.items():
            workloads.setdefault(workload, row)
    for workload, first in workloads.items():
        found = [run.get(workload) for run in runs]
        cells = []
        for row in found:
            if row is None:
                cells.append("—")
            else:
                ratio = "" if row.ratio is None else f" (**{row.ratio:.2f}**)"
                cells.append(f"{row.figure}{ratio}")
        met = None if first.met is None else all(row is not None and row.met for row in found)
        print(f"| {workload} | {first.goal} | {' | '.join(cells)} | {_met(met)} |")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="oidc_flow: turns per provider")
    parser.add_argument("--work-dir", type=Path, help="keep each benchmark's output here")
    parser.add_argument("--json", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: print the table from the figures already in --work-dir",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        nargs="+",
        metavar="WORK_DIR",
        help="run nothing: one table of the runs kept in these work dirs, side by side",
    )
    args = parser.parse_args(argv)
    if args.compare:
        return 1 if compare(args.compare) else 0
    if args.report_only and not args.work_dir:
        parser.error("--report-only needs --work-dir")
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="kluis-issue14-"))
    work.mkdir(parents=True, exist_ok=True)
    # a report of figures already kept has PostgreSQL rows if they were measured
    pg = (work / "oidc_flow-pg.json").exists() if args.report_only else bool(os.environ.get(PG_ENV))
    plan = build_plan(pg, str(args.seconds), args.rounds)
    rows, failed = collect(plan, work, run=not args.report_only)
    print(f"\nIssue #14, one run of each benchmark (outputs in {work}):\n")
    print("| workload | peer | measured | Kluis / peer | goal | met |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = "—" if row.ratio is None else f"**{row.ratio:.2f}**"
        cells = [row.workload, row.peer, row.figure, ratio, row.goal, _met(row.met)]
        print(f"| {' | '.join(cells)} |")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
