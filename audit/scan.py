"""The entry pass of full verification: re-hash every stored entry and check it against its
columns and its predecessor, in index order.

The fast path (`audit.ranges`) reads plain DB-API rows and proves the checks of `_check_entry`
without building entries as Python objects; the rows it cannot prove get `_check_entry` on
the row as SQLAlchemy reads it, which names the problem. With `workers` > 1 the log is split
into ranges of indices, the first scanned here and each other one by a process of its own
on a connection that sees the same snapshot (SQLite: the verifying transaction holds the
write lock; PostgreSQL: `pg_export_snapshot`); the ranges are joined here, where the chain
across each border and the index count are checked as for any two neighbouring rows. The
ranges after the first start on whole blocks of the tree: each range process hashes its
range's perfect subtrees too, and they are joined here (`audit.subtrees`).
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import struct
import subprocess
import sys
from itertools import chain
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from audit import ranges
from audit.merkle import HASH_SIZE, SubtreeCache
from audit.models import AuditEntry
from audit.ranges import PARAM_MARKERS, TS_SQL, Refused, scan_range, tree_heights
from audit.subtrees import BlockHasher, joined_subtrees, perfect_subtrees
from core import libpq_conninfo

# A range process is worth its start (about 0.1 s) from this many entries on.
MIN_RANGE = 50_000
# Rows this process scans while a range process starts (PostgreSQL: ~0.2 s, most of it
# importing psycopg; SQLite: ~0.05 s), at most half of MIN_RANGE.
HEAD_START = {"postgresql": 25_000, "sqlite": 10_000}
# Range processes hash their ranges' perfect subtrees up to blocks of 2**TREE_TOP entries;
# this process then hashes its own range's and the few nodes above the blocks. Alone, this
# process hashes its log in blocks of that size while it waits for rows.
TREE_TOP = 12
_ENTRY_COLUMNS = (
    AuditEntry.idx,
    AuditEntry.created_at,
    AuditEntry.event,
    AuditEntry.actor,
    AuditEntry.subject_ref,
    AuditEntry.entry,
    AuditEntry.leaf_hash,
)
#: One range's result: its leaves, refused rows, first index, and the leaf before it as read.
Part = tuple[list[bytes], list[Refused], int | None, bytes | None]
#: One range's leaves (height 0) and perfect subtrees, by height (`subtrees.joined_subtrees`).
Levels = dict[int, list[bytes]]


def _ts(moment: dt.datetime) -> str:
    """An entry's `ts` as `record` writes it."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _check_entry(
    row: Row[Any], leaf: bytes, expected_idx: int, prev_leaf: bytes | None
) -> str | None:
    """`row` has the columns of `_ENTRY_COLUMNS`; `leaf` is the leaf hash of its `entry`."""
    if row.idx != expected_idx:
        return f"entry {expected_idx} is missing (the next stored entry is {row.idx})"
    data = row.entry.encode("utf-8")
    if leaf != row.leaf_hash:
        return f"entry {row.idx} was altered (its leaf hash does not match its contents)"
    try:
        payload = json.loads(data)
    except ValueError:
        return f"entry {row.idx} is not valid JSON"
    if payload.get("idx") != row.idx:
        return f"entry {row.idx} was moved (its contents say entry {payload.get('idx')})"
    if (
        payload.get("event") != row.event
        or payload.get("subject") != row.subject_ref
        or payload.get("actor") != row.actor
        or payload.get("ts") != _ts(row.created_at)
    ):
        # the columns are what stewards filter on: they must say what the hashed entry says
        return f"entry {row.idx} columns disagree with its hashed contents"
    expected_prev = prev_leaf.hex() if prev_leaf is not None else None
    if payload.get("prev") != expected_prev:
        return (
            f"entry {row.idx - 1} was altered or replaced (entry {row.idx} no longer chains to it)"
        )
    return None


def _slow(session: Session, idx: int, leaf: bytes, expected: int, prev: bytes | None) -> str | None:
    row = session.connection().execute(select(*_ENTRY_COLUMNS).where(AuditEntry.idx == idx)).one()
    return _check_entry(row, leaf, expected, prev)


def scan_entries(
    session: Session, workers: int = 1, min_level: int = 1
) -> tuple[list[bytes], str | None, SubtreeCache]:
    """Every entry's recomputed leaf hash, in index order, the first problem found, and the
    perfect subtrees of ``2**min_level`` leaves or more over those leaves
    (`audit.merkle.perfect_subtrees`).

    `workers` > 1 scans ranges in processes of their own when the log is large enough and
    they can see exactly what this transaction sees: only for a transaction that has written
    nothing (on PostgreSQL also REPEATABLE READ, checked; on SQLite the caller's promise).
    Each range process also hashes its range's subtrees, up to the blocks its range is made
    of; this one hashes its own range's meanwhile, and the tree above them. Every process
    hashes whole blocks while it waits for its next rows (`BlockHasher`)."""
    connection = session.connection()  # the session's transaction
    dialect = connection.dialect
    marker = PARAM_MARKERS.get(dialect.paramstyle)
    if dialect.name not in TS_SQL or marker is None:
        leaves, problem = _scan_rows(session)
        return leaves, problem, perfect_subtrees(leaves, min_level)
    jobs = _range_jobs(session, workers, min_level) if workers > 1 else []
    processes = [_start(job) for job in jobs]
    # alone, this process hashes blocks of the tree while it waits for rows all the same
    stop, top = (jobs[0]["start"], jobs[0]["tree"][1]) if jobs else (None, TREE_TOP)
    hasher = BlockHasher(top, min(min_level, top))
    enabled = gc.isenabled()
    gc.disable()  # the rows make no reference cycles; collecting would only cost time
    try:
        cursor = connection.connection.cursor()
        try:
            part = scan_range(cursor, dialect.name, marker, (None, stop), 0, None, hasher)
        finally:
            cursor.close()
        own: Levels = {0: part[0], **hasher.finish(part[0])}
        collected = [_collect(process, job) for process, job in zip(processes, jobs, strict=True)]
    finally:
        if enabled:
            gc.enable()
        for process in processes:  # gone already, unless something above failed
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
    if None in collected:  # a range process failed: scan everything here instead
        return scan_entries(session, 1, min_level)
    answers = [answer for answer in collected if answer is not None]
    parts: list[Part] = [(*part, None), *(answer[0] for answer in answers)]
    leaves, problem = _join(session, parts)
    trees = [own, *(answer[1] for answer in answers)]
    try:
        subtrees = joined_subtrees(trees, top, min_level)
    except ValueError:  # rows missing or extra in a range (a problem found): from the leaves
        subtrees = perfect_subtrees(leaves, min_level)
    return leaves, problem, subtrees


def _join(session: Session, parts: list[Part]) -> tuple[list[bytes], str | None]:
    """The ranges' leaves in order, and the first problem: each range's first row is checked
    against the index count and the last leaf of the ranges before it."""
    leaves: list[bytes] = []
    problem: str | None = None
    for part_leaves, refused, first, before in parts:
        if problem is None and first is not None:
            expected, prev = len(leaves), (leaves[-1] if leaves else None)
            border = first != expected or before != prev  # the range began from elsewhere
            if border:
                problem = _slow(session, first, part_leaves[0], expected, prev)
            for idx, leaf, row_expected, row_prev in refused:
                if problem is not None:
                    break
                if not (border and idx == first):
                    problem = _slow(session, idx, leaf, row_expected, row_prev)
        leaves.extend(part_leaves)
    return leaves, problem


def _range_jobs(session: Session, workers: int, min_level: int) -> list[dict[str, Any]]:
    """The ranges after the first for processes of their own, or none. They start at
    multiples of 2**top, so that each range process can hash its range's perfect subtrees
    up to height top (`tree_top`)."""
    connection = session.connection()
    url = connection.engine.url
    if connection.dialect.name == "sqlite":
        database, snapshot = url.database, None
        if not database or database == ":memory:" or database.startswith("file:"):
            return []
        last = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    else:  # PostgreSQL: one snapshot, exported for the range processes
        isolation, unwritten = connection.exec_driver_sql(
            "SELECT current_setting('transaction_isolation'), "
            "pg_current_xact_id_if_assigned() IS NULL"
        ).one()
        if isolation == "read committed" or not unwritten or session.in_nested_transaction():
            return []
        snapshot, last = connection.exec_driver_sql(
            "SELECT pg_export_snapshot(), max(idx) FROM audit_entries"
        ).one()
        database = libpq_conninfo(url.render_as_string(hide_password=False))
    count = min(workers, (last or 0) // MIN_RANGE)
    if count < 2 or last is None:
        return []
    # This process scans the first range, with a head start: the rows it reads while the
    # others start (a fresh interpreter, the driver, a connection), so that all end together.
    head = min(HEAD_START[connection.dialect.name], MIN_RANGE // 2)
    first = (last + 1 + head * (count - 1)) // count
    size = (last + 1 - first) // (count - 1)
    top = tree_top(size)
    block = 1 << top  # at most a quarter of a range: rounding moves a start by at most an eighth
    starts = [(first + k * size + block // 2) // block * block for k in range(count - 1)]
    return [
        {
            "dialect": connection.dialect.name,
            "database": database,
            "snapshot": snapshot,
            "start": start,
            "stop": starts[k + 1] if k + 1 < len(starts) else last + 1,
            "tree": [min(min_level, top), top],
        }
        for k, start in enumerate(starts)
    ]


def tree_top(size: int) -> int:
    """The height up to which a range process of about `size` entries hashes its subtrees:
    blocks of `2**TREE_TOP` entries, or of at most a quarter of the range."""
    return max(0, min(TREE_TOP, size.bit_length() - 3))


def _start(job: dict[str, Any]) -> subprocess.Popen[bytes]:
    # A fresh interpreter (-I: no environment, no script directory on the path) that imports
    # only the standard library and the driver: nothing of this process is inherited.
    process = subprocess.Popen(  # noqa: S603 (this interpreter, a file of ours, no shell)
        [sys.executable, "-I", ranges.__file__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # no connection details in anyone's logs
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(job).encode())
    process.stdin.close()
    return process


def _collect(process: subprocess.Popen[bytes], job: dict[str, Any]) -> tuple[Part, Levels] | None:
    """A range process's answer: its part and its leaves and subtrees by height; None if it
    failed or answered in another shape (this process then scans everything itself)."""
    assert process.stdout is not None
    out = process.stdout.read()
    process.stdout.close()
    if process.wait() != 0:
        return None
    try:
        return _answer(out, tree_heights(job))
    except (ValueError, KeyError, TypeError, IndexError):  # JSON, hex, shape
        return None


def _answer(out: bytes, heights: range) -> tuple[Part, Levels] | None:
    line, _, blob = out.partition(b"\n")
    header = json.loads(line)
    rows, first = header["rows"], header["first"]
    if type(rows) is not int or rows < 0 or (first is None) != (rows == 0):
        return None
    sizes = [rows, *(rows >> height for height in heights)]
    if len(blob) != HASH_SIZE * sum(sizes):
        return None
    hashes = _cut(blob)
    levels: Levels = {}
    offset = 0
    for height, size in zip((0, *heights), sizes, strict=True):
        levels[height] = hashes[offset : offset + size]
        offset += size
    refused: list[Refused] = [
        (int(i), bytes.fromhex(leaf), int(e), None if p is None else bytes.fromhex(p))
        for i, leaf, e, p in header["refused"]
    ]
    before = None if header["prev"] is None else bytes.fromhex(header["prev"])
    return (levels[0], refused, first, before), levels


# Hashes are cut out of an answer in C, _CUT_BLOCK at a time (half the time of slicing the
# blob in a comprehension; one struct per block, not per answer, keeps its memory bounded).
_CUT_BLOCK = struct.Struct(f"{HASH_SIZE}s" * 4096)


def _cut(blob: bytes) -> list[bytes]:
    whole = len(blob) - len(blob) % _CUT_BLOCK.size
    hashes = list(chain.from_iterable(_CUT_BLOCK.iter_unpack(memoryview(blob)[:whole])))
    hashes += [blob[i : i + HASH_SIZE] for i in range(whole, len(blob), HASH_SIZE)]
    return hashes


def _scan_rows(session: Session) -> tuple[list[bytes], str | None]:
    """Any other database: every row through SQLAlchemy and the checks of `_check_entry`."""
    leaves: list[bytes] = []
    problem: str | None = None
    query = select(*_ENTRY_COLUMNS).order_by(AuditEntry.idx).execution_options(yield_per=5_000)
    for row in session.execute(query):
        leaf = hashlib.sha256(b"\x00" + row.entry.encode("utf-8")).digest()
        found = _check_entry(row, leaf, len(leaves), leaves[-1] if leaves else None)
        problem = problem or found
        leaves.append(leaf)
    return leaves, problem
