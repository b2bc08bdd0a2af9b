"""Benchmark: the tamper-evident audit log — appends per second (batched and one per
transaction), inclusion-proof time at 1 M entries, full verification in entries per second —
side by side with pymerkle (an RFC 9162-compatible Merkle tree library; `make install` brings
it through the `bench` extra).

    .venv/bin/python bench/audit/run.py --entries 1000000

Kluis's figures include its storage: each append is a database row (canonical JSON, chained to
its predecessor, under the append lock), proofs read leaf hashes from the database through the
subtree cache, and verification re-hashes every stored entry, checks the chain and every
signed checkpoint. pymerkle is measured with its in-memory tree (proofs, root recomputation)
and its SQLite tree (batched appends). Not a test: it never fails on time.
"""

# ruff: noqa: E402  (the imports follow the sys.path fix below)
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: `tests.support` for the PostgreSQL schema
    sys.path.insert(0, str(REPO))

from pydantic import SecretStr
from sqlalchemy import insert, select

from audit.cli import idle_cores
from audit.log import verify_database
from audit.merkle import leaf_hash
from audit.models import AuditEntry
from audit.proofs import verify_inclusion
from audit.record import Pending, record, record_many
from core.canonical import canonical_json
from core.db import utcnow
from core.sqlite_checkpoints import wal_checkpointer
from service import migrate
from service.runtime import Runtime, build_runtime
from service.settings import Settings

REF = "ab" * 32
FILL_CHUNK = 20_000
TURNS = 4  # batched appends: Kluis and pymerkle take turns, this many each
BENCH_DB_ENV = "KLUIS_BENCH_DATABASE_URL"


def _database_url(work: Path, given: str | None) -> tuple[str, bool]:
    """`--database-url` as given, else a fresh schema in KLUIS_BENCH_DATABASE_URL (PostgreSQL;
    dropped afterwards: the second value says so), else a SQLite file in the work dir."""
    if given:
        return given, False
    base = os.environ.get(BENCH_DB_ENV)
    if not base:
        return f"sqlite:///{work / 'bench.sqlite3'}", False
    os.environ["KLUIS_TEST_DATABASE_URL"] = base
    from tests.support.databases import fresh_database_url

    return fresh_database_url(work), True


def _runtime(work: Path, url: str) -> Runtime:
    migrate.upgrade(url)
    settings = Settings(
        mode="development",
        issuer="http://127.0.0.1:9",
        data_dir=work,
        database_url=url,
        secret_key=SecretStr("bench-only-key-encryption-material-0123456789"),
        outbox_worker=False,
    )
    return build_runtime(settings)


def _details(i: int) -> dict[str, Any]:
    return {"client": f"platform{i % 5}", "claims": ["email", "name"], "n": i}


def bench_appends(runtime: Runtime, count: int, batch: int) -> float:
    """`record()` calls per second, `batch` per transaction."""
    started = time.perf_counter()
    done = 0
    while done < count:
        with runtime.db.transaction() as session:
            for _ in range(min(batch, count - done)):
                record(session, "consent.given", "resident", REF, _details(done))
                done += 1
    return count / (time.perf_counter() - started)


def bench_appends_many(
    runtime: Runtime, count: int, batch: int, peer: Callable[[int], None] | None = None
) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """Entries per second through `record_many`, `batch` entries per call and transaction,
    and this process's CPU time per entry in microseconds (on a busy machine the steadier
    figure; on PostgreSQL it leaves out the server's share); the same for `peer(i)`, which
    appends the i-th batch of the peer's, timed in turns with Kluis's batches so that a
    machine whose speed drifts (this one's varies by a third within minutes) slows both
    alike. After each Kluis turn the WAL checkpoint its commits left to the checkpointer
    thread (SQLite) is done before the peer's turn: not on Kluis's clock (the thread copies
    beside the next appends), on its CPU time, and none of it in the peer's turn. The entries
    are made before the clock starts, as pymerkle's are: each side is timed on its input."""
    batches = [
        [Pending("consent.given", "resident", REF, _details(i)) for i in range(s, end)]
        for s in range(0, count, batch)
        for end in [min(s + batch, count)]
    ]
    checkpointer = wal_checkpointer(runtime.db.engine)
    ours, theirs = [0.0, 0.0], [0.0, 0.0]
    turn = max(1, len(batches) // TURNS)
    for start in range(0, len(batches), turn):
        began, cpu = time.perf_counter(), time.process_time()
        for items in batches[start : start + turn]:
            with runtime.db.transaction() as session:
                record_many(session, items)
        ours[0] += time.perf_counter() - began
        if checkpointer is not None:
            # what the thread would copy meanwhile, done before the peer's turn: off the
            # clock, as the thread does it beside the next appends, but on the CPU figure
            checkpointer.checkpoint()
        ours[1] += time.process_time() - cpu
        if peer is not None:  # its CPU: this thread's (none of a Kluis thread's late work)
            began, cpu = time.perf_counter(), time.thread_time()
            for index in range(start, min(start + turn, len(batches))):
                peer(index)
            theirs[0] += time.perf_counter() - began
            theirs[1] += time.thread_time() - cpu
    figures = (count / ours[0], ours[1] / count * 1e6)
    return figures, (count / theirs[0], theirs[1] / count * 1e6) if peer is not None else None


def _synthetic(start: int, prev: bytes | None, end: int) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Rows exactly as `record()` writes them (same payload shape, chain and leaf hash)."""
    base = utcnow()
    for idx in range(start, end):
        moment = base + dt.timedelta(microseconds=idx)
        payload = {
            "idx": idx,
            "prev": prev.hex() if prev is not None else None,  # the first entry: null
            "ts": moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "event": "consent.given",
            "actor": "resident",
            "subject": REF,
            "details": _details(idx),
        }
        data = canonical_json(payload)
        prev = leaf_hash(data)
        row = {
            "idx": idx,
            "created_at": moment,
            "event": "consent.given",
            "actor": "resident",
            "subject_ref": REF,
            "entry": data.decode(),
            "leaf_hash": prev,
        }
        yield row, data


def fill(runtime: Runtime, total: int) -> list[bytes]:
    """Bulk-insert synthetic entries up to `total`; returns every entry's bytes (for peers)."""
    with runtime.db.transaction() as session:
        rows = session.execute(select(AuditEntry.entry).order_by(AuditEntry.idx)).scalars()
        entries = [e.encode() for e in rows]
        last = session.get(AuditEntry, len(entries) - 1) if entries else None
        prev = last.leaf_hash if last is not None else None
    chunk: list[dict[str, Any]] = []
    for row, data in _synthetic(len(entries), prev, total):
        chunk.append(row)
        entries.append(data)
        if len(chunk) == FILL_CHUNK:
            with runtime.db.transaction() as session:
                session.execute(insert(AuditEntry), chunk)
            chunk = []
    if chunk:
        with runtime.db.transaction() as session:
            session.execute(insert(AuditEntry), chunk)
    return entries


def bench_proofs(runtime: Runtime, size: int, indices: list[int]) -> dict[str, float]:
    log = runtime.audit
    with runtime.db.transaction() as session:
        started = time.perf_counter()
        checkpoint = log.checkpoint(session)  # the first root over the whole log: cold cache
        cold = time.perf_counter() - started
        root = checkpoint.root_hash
        times, verify_times = [], []
        for index in indices:
            t0 = time.perf_counter()
            tree = log.tree(session, size)
            proof = tree.inclusion_proof(index)
            times.append(time.perf_counter() - t0)
            leaf = session.scalar(select(AuditEntry.leaf_hash).where(AuditEntry.idx == index))
            assert leaf is not None
            t1 = time.perf_counter()
            verify_inclusion(index, size, leaf, proof, root)
            verify_times.append(time.perf_counter() - t1)
    return {
        "cold_root_s": cold,
        "proof_ms_p50": statistics.median(times) * 1e3,
        "proof_ms_mean": statistics.fmean(times) * 1e3,
        "verify_us_p50": statistics.median(verify_times) * 1e6,
    }


def bench_verify(runtime: Runtime, workers: int) -> tuple[float, int, bool]:
    """As `kluis audit verify --workers N` runs it (its own transaction, ranges in processes)."""
    started = time.perf_counter()
    report = verify_database(runtime.db, runtime.audit, workers)
    elapsed = time.perf_counter() - started
    return report.tree_size / elapsed, report.checkpoints, report.ok


def bench_pymerkle(entries: list[bytes], indices: list[int]) -> dict[str, Any]:
    import pymerkle  # type: ignore[import-not-found, unused-ignore]

    out: dict[str, Any] = {"version": getattr(pymerkle, "__version__", "?")}
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    started = time.perf_counter()
    for data in entries:
        tree.append_entry(data)
    out["inmemory_appends_per_s"] = len(entries) / (time.perf_counter() - started)
    started = time.perf_counter()
    root = tree.get_root()
    out["root_s"] = time.perf_counter() - started
    out["root_entries_per_s"] = len(entries) / (
        out["root_s"] + len(entries) / out["inmemory_appends_per_s"]
    )
    out["root"] = root
    times, verify_times = [], []
    for index in indices:
        t0 = time.perf_counter()
        proof = tree.prove_inclusion(index + 1)  # pymerkle counts leaves from 1
        times.append(time.perf_counter() - t0)
        base = tree.get_leaf(index + 1)
        t1 = time.perf_counter()
        pymerkle.verify_inclusion(base, root, proof)
        verify_times.append(time.perf_counter() - t1)
    out["proof_ms_p50"] = statistics.median(times) * 1e3
    out["verify_us_p50"] = statistics.median(verify_times) * 1e6
    return out


@contextlib.contextmanager
def _pymerkle_batches(work: Path, args: argparse.Namespace) -> Iterator[Callable[[int], None]]:
    """pymerkle's `SqliteTree.append_entries` of its i-th batch: entries of the shape Kluis
    appends (`_synthetic`), `--batch` per call, on a file of its own."""
    import pymerkle

    data = [entry for _, entry in _synthetic(0, None, args.appends)]
    batches = [data[s : s + args.batch] for s in range(0, len(data), args.batch)]
    with pymerkle.SqliteTree(str(work / "pymerkle.sqlite3"), algorithm="sha256") as tree:
        yield lambda index: tree.append_entries(batches[index])


def _verify_workers(value: str) -> int | str:
    if value == "idle":
        return value
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("a number of processes (1 or more) or 'idle'")
    return int(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size for proofs")
    parser.add_argument("--appends", type=int, default=20_000, help="appends to time")
    parser.add_argument("--batch", type=int, default=1_000, help="appends per transaction")
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument(
        "--database-url", help=f"default: a fresh schema in ${BENCH_DB_ENV}, else SQLite"
    )
    parser.add_argument(
        "--verify-workers",
        type=_verify_workers,
        help="as `audit verify --workers` (default: as it picks now; 'idle': as it picks on "
        "this machine when nothing else runs)",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip pymerkle")
    parser.add_argument(
        "--freeze-gc",
        action="store_true",
        help="gc.freeze() after start-up, as `kluis serve` does",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the main figures to this file")
    args = parser.parse_args()
    if not args.no_peer:
        try:
            import pymerkle  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
        except ImportError:
            parser.error("pymerkle is missing: run `make install` (or pass --no-peer)")
    work = Path(tempfile.mkdtemp(prefix="kluis-bench-audit-"))
    url, fresh = _database_url(work, args.database_url)
    try:
        return _run(args, work, url)
    finally:
        if fresh:
            from tests.support.databases import drop_database

            drop_database(url)


def _run(args: argparse.Namespace, work: Path, url: str) -> int:
    runtime = _runtime(work, url)
    if args.freeze_gc:
        # the ~200,000 objects of start-up out of the collector's full passes, which
        # otherwise cost ~0.1 s each: about 6 us of every batched append's time here
        gc.freeze()
    try:
        return _measure(args, work, runtime)
    finally:
        runtime.db.dispose()


def _measure(args: argparse.Namespace, work: Path, runtime: Runtime) -> int:
    print(f"database: {runtime.db.dialect}; log size for proofs: {args.entries:,}", end="")
    print("; gc.freeze() after start-up" if args.freeze_gc else "")

    single = bench_appends(runtime, min(1_000, args.appends), 1)
    batched = bench_appends(runtime, args.appends, args.batch)
    with contextlib.ExitStack() as stack:
        peer_batch = None if args.no_peer else stack.enter_context(_pymerkle_batches(work, args))
        (many, many_cpu), peer_appends = bench_appends_many(
            runtime, args.appends, args.batch, peer_batch
        )
    print(f"appends, one per transaction:        {single:>12,.0f} entries/s")
    print(f"appends, {args.batch} per transaction:     {batched:>12,.0f} entries/s")
    print(f"appends, record_many {args.batch} per call: {many:>11,.0f} entries/s", end="")
    print(f" ({many_cpu:.1f} us CPU of this process per entry)")

    started = time.perf_counter()
    entries = fill(runtime, args.entries)
    print(f"(bulk fill to {len(entries):,} entries: {time.perf_counter() - started:.1f} s)")
    rng = random.Random(args.seed)
    indices = [rng.randrange(len(entries)) for _ in range(args.proofs)]
    proofs = bench_proofs(runtime, len(entries), indices)
    print(f"first root over the log (cold cache): {proofs['cold_root_s']:>11.2f} s")
    print(f"inclusion proof at {len(entries):,}, p50:  {proofs['proof_ms_p50']:>11.3f} ms")
    print(f"inclusion proof verification, p50:   {proofs['verify_us_p50']:>11.1f} us")
    alone, _, ok_alone = bench_verify(runtime, 1)
    if args.verify_workers == "idle":  # what `kluis audit verify` picks here when idle
        workers = idle_cores(runtime.db, load=False)
    else:
        workers = args.verify_workers or idle_cores(runtime.db)
    rate, checkpoints, ok = bench_verify(runtime, workers)
    ok = ok and ok_alone
    verdict = "OK" if ok else "FAILED"
    print(f"full verification, one process:       {alone:>9,.0f} entries/s")
    print(f"full verification (kluis audit verify --workers {workers}): ", end="")
    print(f"{rate:,.0f} entries/s ({checkpoints} checkpoints, {verdict})")

    peer = None if args.no_peer else bench_pymerkle(entries, indices)
    if peer is not None and peer_appends is not None:
        peer["sqlite_appends_per_s"], peer["sqlite_append_cpu_us"] = peer_appends
    if args.json:
        figures = {
            "database": runtime.db.dialect,
            "entries": len(entries),
            "record_per_transaction_per_second": batched,
            "record_many_per_second": many,
            "record_many_cpu_us": many_cpu,
            "verify_entries_per_second": rate,
            "verify_one_process_entries_per_second": alone,
            "verify_workers": workers,
            "verified": ok,
            "gc_frozen": args.freeze_gc,
        }
        if peer is not None:
            figures.update(
                pymerkle_appends_per_second=peer["sqlite_appends_per_s"],
                pymerkle_append_cpu_us=peer["sqlite_append_cpu_us"],
                pymerkle_root_entries_per_second=peer["root_entries_per_s"],
            )
        args.json.write_text(json.dumps(figures, indent=2))
    if peer is None:
        print("\npymerkle: not measured (--no-peer)")
        return 0 if ok else 1
    with runtime.db.transaction() as session:
        same = runtime.audit.tree(session).root() == peer["root"]
    print(
        f"\npymerkle {peer['version']} (same root over the same entries: {'yes' if same else 'NO'})"
    )
    sqlite_rate = peer["sqlite_appends_per_s"]
    print(f"appends, SqliteTree, {args.batch} per call:  {sqlite_rate:>12,.0f} entries/s", end="")
    print(f" ({peer['sqlite_append_cpu_us']:.1f} us CPU per entry)")
    print(
        f"appends, InmemoryTree:                {peer['inmemory_appends_per_s']:>12,.0f} entries/s"
    )
    print(f"inclusion proof at {len(entries):,}, p50:  {peer['proof_ms_p50']:>11.3f} ms")
    print(f"inclusion proof verification, p50:   {peer['verify_us_p50']:>11.1f} us")
    print(f"root from all entries (append+root):  {peer['root_entries_per_s']:>12,.0f} entries/s")
    print("\nratios (Kluis / pymerkle; > 1 means Kluis is faster)")
    # pymerkle's batched appends always go to SQLite; Kluis's to the database under test
    peer_rate = peer["sqlite_appends_per_s"]
    print(f"  batched appends vs append_entries:  {batched / peer_rate:.2f}")
    print(f"  record_many vs append_entries:      {many / peer_rate:.2f}", end="")
    print(f" (by CPU time per entry: {peer['sqlite_append_cpu_us'] / many_cpu:.2f})")
    print(
        f"  inclusion proof time:               {peer['proof_ms_p50'] / proofs['proof_ms_p50']:.2f}"
    )
    verify_ratio = peer["verify_us_p50"] / proofs["verify_us_p50"]
    print(f"  proof verification:                 {verify_ratio:.2f}")
    print(f"  full verification vs root rebuild:  {rate / peer['root_entries_per_s']:.2f}")
    return 0 if ok and same else 1


if __name__ == "__main__":
    sys.exit(main())
