"""Kluis before and after a change, side by side in one interleaved run of `run.py`.

    git worktree add /tmp/before HEAD~1
    .venv/bin/python bench/oidc_flow/ab.py --before /tmp/before --rounds 15 --seconds 30 \\
        --concurrency 1 [--alg ES256] [--workers 2] [--peer]

Serves the code of another checkout (`--before`, a git worktree of the commit to compare
with; its `kluis serve` runs on this checkout's `.venv` with that tree first on
`PYTHONPATH`) as `kluis-before`, and this checkout's as `kluis-after`, both on fresh
databases as `run.py` makes them (`KLUIS_BENCH_DATABASE_URL` for PostgreSQL), and measures
them in `--rounds` turns each, the order reversed every other turn: a burst of other work on
the machine falls on both alike, which runs one after the other do not give on a shared
machine. `--peer` adds oidc-provider. The other options are `run.py`'s but `--providers`.
Only `kluis serve` runs the other checkout's code: the schema, the resident and the client
are made by this checkout's commands, so the migrations of both sides must be the same.
"""

# ruff: noqa: E402  (the imports follow the sys.path fix below)
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.oidc_flow import drivers, run


class KluisBefore(drivers.KluisDriver):
    """Kluis as `kluis`, serving the code of the `--before` checkout."""

    name = "kluis-before"


class KluisAfter(drivers.KluisDriver):
    """Kluis as `kluis`, serving this checkout's code."""

    name = "kluis-after"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--alg", default="RS256", choices=["RS256", "ES256"])
    parser.add_argument("--workers", type=int, default=1, help="kluis serve --workers N")
    parser.add_argument("--peer", action="store_true", help="also run oidc-provider")
    args, rest = parser.parse_known_args(argv)
    if any(arg.split("=")[0] == "--providers" for arg in rest):
        parser.error("--providers is this script's: kluis-before, kluis-after (and --peer)")
    before = args.before.resolve()
    if not (before / "service").is_dir():
        parser.error(f"{before} is not a Kluis checkout")
    for cls, tree in ((KluisBefore, before), (KluisAfter, REPO)):
        cls.env = {"PYTHONPATH": str(tree)}
        cls.id_token_alg = args.alg
        cls.workers = args.workers
        drivers.DRIVERS[cls.name] = cls
    providers = [KluisBefore.name, KluisAfter.name] + ([drivers.PEER] if args.peer else [])
    return run.main(["--providers", ",".join(providers), *rest])


if __name__ == "__main__":
    sys.exit(main())
