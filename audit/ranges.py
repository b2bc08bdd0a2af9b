"""The fast entry pass of full verification over one range of indices, on a plain DB-API
cursor: re-hash every stored entry and prove it matches its columns and its predecessor.

Every row gets the checks `audit.scan` spells out (dense index, leaf hash, valid JSON, index,
columns and chain); the fast path proves them without building the entry as Python objects.
The entry must be exactly ``{"actor":A,"details":D,"event":E,"idx":I,"prev":P,"subject":S,
"ts":T}`` with A, E, I, P, S and T spelled from the row's columns and the leaf before it, and
D one complete JSON value (parsed by the standard scanner, which also rejects invalid JSON).
Such an object has each key once, so any JSON parser reads exactly the column values from it.
Rows it cannot prove (column values that would need escaping in JSON, timestamps stored in an
unexpected form, and every real problem) are *refused*: the caller puts them through the
original checks, which name the problem.

Standard library only (and psycopg on PostgreSQL), so that `kluis audit verify` can run it
as a script in processes of their own, one per range, without importing the rest of Kluis:
``python ranges.py`` reads a job (JSON) on stdin and writes a header line (JSON), the
range's leaf hashes (32 bytes each) and the range's perfect subtrees at the heights the job
names (`audit.subtrees.BlockHasher`, loaded from subtrees.py without the rest of the
package) on stdout.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SCAN_ROWS = 20_000  # rows per keyset read
_SPELLED_MAX = 4_096
_UNSEEN: Any = object()
_SELECT = "SELECT idx, {ts}, event, actor, subject_ref, entry, leaf_hash FROM audit_entries"
# The entry's `ts` as the database spells it from `created_at`, or NULL (the slow path).
TS_SQL = {
    "postgresql": (  # years 1 to 9999 only, as Python reads them; NULL takes the slow path
        "CASE WHEN created_at >= '0001-01-01 00:00:00+00' AND created_at < '9999-12-31 "
        """23:59:59.999999+00' THEN to_char(created_at AT TIME ZONE 'UTC', """
        """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    ),
    "sqlite": "created_at",  # as stored, 'YYYY-MM-DD HH:MM:SS.ffffff'
}
_BEFORE = "SELECT entry FROM audit_entries WHERE idx < {p} ORDER BY idx DESC LIMIT 1"
# The DB-API parameter marker of each paramstyle the drivers Kluis uses have.
PARAM_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
# Printable ASCII without '"' and '\': spelled inside JSON quotes as is.
_PLAIN = re.compile(r"[ !#-\[\]-~]*").fullmatch
_SQLITE_TS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}"
).fullmatch
# The standard scanner: one JSON value from a position, (value, end) or StopIteration.
_scan_value = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]

#: A row the fast path could not prove: (idx, recomputed leaf, expected idx, previous leaf).
Refused = tuple[int, bytes, int, bytes | None]


def scan_range(
    cursor: Any,
    dialect: str,
    marker: str,
    bounds: tuple[int | None, int | None],
    expected: int,
    prev: bytes | None,
    hasher: Any = None,
) -> tuple[list[bytes], list[Refused], int | None]:
    """The leaf hashes of the rows with ``start <= idx < stop`` (None: unbounded), in index
    order, the rows the fast path refused, and the first row's index (None: no rows). The
    first row is expected to have index `expected` and to chain to the leaf `prev`.

    `hasher` (an `audit.subtrees.BlockHasher`, or None) hashes whole blocks of the leaves
    found so far while the next rows are not there yet: time otherwise spent waiting."""
    start, stop = bounds
    upper = "" if stop is None else f" AND idx < {int(stop)}"
    lower = "" if start is None else f" AND idx >= {int(start)}"
    select = _SELECT.format(ts=TS_SQL[dialect])
    first_sql = f"{select} WHERE 1 = 1{lower}{upper} ORDER BY idx LIMIT {SCAN_ROWS}"
    next_sql = f"{select} WHERE idx > {marker}{upper} ORDER BY idx LIMIT {SCAN_ROWS}"
    sha256 = hashlib.sha256
    scan_value = _scan_value
    sqlite_ts = _SQLITE_TS if dialect == "sqlite" else None
    # PostgreSQL spells `ts` with to_char from a timestamp it holds: a real date and time.
    # SQLite holds text: the fast path takes it only if it is one.
    from_iso = dt.datetime.fromisoformat if sqlite_ts is not None else None
    # psycopg: results in binary (bytea as it is, not in hex; integers as they are)
    execute_options = {"binary": True} if dialect == "postgresql" else {}
    # (actor, event, subject) -> the entry's head and the subject's spelling, or None when
    # a value would need escaping; each distinct triple is looked at once per range
    spelled: dict[tuple[str, str, str | None], tuple[str, str] | None] = {}
    leaves: list[bytes] = []
    append = leaves.append
    refused: list[Refused] = []
    prev_json = "null" if prev is None else f'"{prev.hex()}"'
    first: int | None = None
    last: tuple[Any, Any, Any] = (_UNSEEN, _UNSEEN, _UNSEEN)
    parts: tuple[str, str] | None = None

    def fetch(sql: str, *params: Any) -> list[Any]:
        cursor.execute(sql, params, **execute_options)
        rows: list[Any] = cursor.fetchall()
        return rows

    # The next chunk is read (the database's work and the wait, and the driver's in part, run
    # without the GIL) while this one is checked; meanwhile only that thread uses the cursor.
    with ThreadPoolExecutor(max_workers=1) as reader:
        coming = reader.submit(fetch, first_sql)
        while True:
            while hasher is not None and not coming.done() and hasher.step(leaves):
                pass
            rows = coming.result()
            if not rows:
                break
            coming = reader.submit(fetch, next_sql, rows[-1][0])
            for idx, ts, event, actor, subject, entry, stored_leaf in rows:
                leaf = sha256(("\x00" + entry).encode()).digest()
                # neighbouring entries often share these: compared before they are hashed
                if event != last[1] or subject != last[2] or actor != last[0]:
                    last = (actor, event, subject)
                    parts = spelled.get(last, _UNSEEN)
                    if parts is _UNSEEN:
                        if len(spelled) >= _SPELLED_MAX:  # one per resident, at worst: bounded
                            spelled.clear()
                        parts = spelled[last] = _spell(actor, event, subject)
                try:
                    if sqlite_ts is not None:
                        ts = f"{ts[:10]}T{ts[11:]}Z" if sqlite_ts(ts) else None
                    if parts is None or idx != expected or leaf != stored_leaf:
                        raise ValueError
                    head, subject_json = parts
                    tail = (
                        f',"event":"{event}","idx":{idx},"prev":{prev_json},'
                        f'"subject":{subject_json},"ts":"{ts}"}}'
                    )
                    fast = (
                        (from_iso is None or from_iso(ts[:-1]) is not None)
                        and entry.startswith(head)
                        and entry.endswith(tail)
                        and scan_value(entry, len(head))[1] == len(entry) - len(tail)
                    )
                except (StopIteration, TypeError, ValueError, RecursionError):
                    fast = False
                if not fast:
                    refused.append((idx, leaf, expected, leaves[-1] if leaves else prev))
                append(leaf)
                expected += 1
                prev_json = f'"{leaf.hex()}"'
            if first is None:
                first = rows[0][0]
    return leaves, refused, first


def _spell(actor: Any, event: Any, subject: Any) -> tuple[str, str] | None:
    """The entry's head and its subject in JSON, when every value is spelled as is."""
    if not all(isinstance(v, str) and _PLAIN(v) for v in (actor, event, subject or "")):
        return None
    return f'{{"actor":"{actor}","details":', "null" if subject is None else f'"{subject}"'


def leaf_before(cursor: Any, marker: str, start: int) -> bytes | None:
    """The recomputed leaf of the last stored entry before index `start`, or None."""
    cursor.execute(_BEFORE.format(p=marker), (start,))
    row = cursor.fetchone()
    return None if row is None else hashlib.sha256(("\x00" + row[0]).encode()).digest()


def _connect(job: dict[str, Any]) -> Any:
    """A read-only transaction on the snapshot the verifying transaction sees."""
    if job["dialect"] == "sqlite":
        import sqlite3

        # The verifying transaction holds SQLite's write lock (Kluis begins every transaction
        # IMMEDIATE), so nothing is committed until it ends: this read sees what it sees.
        lite = sqlite3.connect(job["database"], isolation_level=None, check_same_thread=False)
        lite.execute("PRAGMA busy_timeout=30000")
        lite.execute("BEGIN")
        return lite
    import psycopg
    from psycopg import sql

    pg = psycopg.connect(job["database"], autocommit=True)
    pg.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    pg.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(job["snapshot"])))
    return pg


#: Makes an `audit.subtrees.BlockHasher` for (top, low).
HasherFactory = Callable[[int, int], Any]


def _block_hasher() -> HasherFactory:
    """`audit.subtrees.BlockHasher`, from subtrees.py beside this file (standard library
    only) loaded on its own: importing the `audit` package would import the whole service."""
    name = "_kluis_audit_subtrees"
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("subtrees.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.BlockHasher  # type: ignore[no-any-return]


def tree_heights(job: dict[str, Any]) -> range:
    """The heights of the range's perfect subtrees its process sends after its leaves: those
    of ``job["tree"]`` = [low, top], leaves (height 0) aside."""
    low, top = job.get("tree", (0, 0))
    return range(max(low, 1), top + 1)


def run_job(
    job: dict[str, Any], block_hasher: HasherFactory
) -> tuple[dict[str, Any], list[bytes], list[list[bytes]]]:
    """One range in a process of its own: its header (rows, first index, the leaf before
    the range as read, refused rows), its leaf hashes and its perfect subtrees at the heights
    of `tree_heights`, hashed here so that the verifying process has only the tree above
    them left to hash (the range starts at a multiple of 2**top)."""
    heights = tree_heights(job)
    hasher = block_hasher(heights.stop - 1, heights.start) if heights else None
    connection = _connect(job)
    try:
        cursor = connection.cursor()
        start = job["start"]
        marker = "?" if job["dialect"] == "sqlite" else "%s"
        prev = leaf_before(cursor, marker, start)
        bounds = (start, job["stop"])
        leaves, refused, first = scan_range(
            cursor, job["dialect"], marker, bounds, start, prev, hasher
        )
    finally:
        connection.close()
    levels = hasher.finish(leaves) if hasher is not None else {}
    header = {
        "rows": len(leaves),
        "first": first,
        "prev": None if prev is None else prev.hex(),
        "refused": [
            [i, leaf.hex(), e, None if p is None else p.hex()] for i, leaf, e, p in refused
        ],
    }
    return header, leaves, [levels[height] for height in heights]


def main() -> None:
    gc.disable()  # a short-lived process whose rows make no reference cycles
    block_hasher = _block_hasher()  # before the scan: a failure to load shows at once
    job = json.loads(sys.stdin.buffer.read())
    header, leaves, levels = run_job(job, block_hasher)
    out = sys.stdout.buffer
    out.write(json.dumps(header).encode() + b"\n")
    out.write(b"".join(leaves))
    for level in levels:
        out.write(b"".join(level))
    out.flush()


if __name__ == "__main__":
    main()
