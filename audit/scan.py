"""The entry pass of full verification: re-hash every stored entry and check it against its
columns and its predecessor, in index order, streaming plain DB-API rows.

Every row gets the checks `_check_entry` spells out (dense index, leaf hash, valid JSON, index,
columns and chain). The fast path proves them without building the entry as Python objects:
the entry must be exactly ``{"actor":A,"details":D,"event":E,"idx":I,"prev":P,"subject":S,
"ts":T}`` with A, E, I, P, S and T spelled from the row's columns and the leaf before it, and D
one complete JSON value (parsed by the standard scanner, which also rejects invalid JSON). Such
an object has each key once, so any JSON parser reads exactly the column values from it. Column
values that would need escaping in JSON, timestamps stored in an unexpected form and every
failure take the slow path, the original checks on the row as SQLAlchemy reads it, which name
the problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry

SCAN_ROWS = 20_000  # rows per keyset read
_ENTRY_COLUMNS = (
    AuditEntry.idx,
    AuditEntry.created_at,
    AuditEntry.event,
    AuditEntry.actor,
    AuditEntry.subject_ref,
    AuditEntry.entry,
    AuditEntry.leaf_hash,
)
_SELECT = "SELECT idx, {ts}, event, actor, subject_ref, entry, leaf_hash FROM audit_entries"
# The entry's `ts` as the database spells it from `created_at`, or NULL (the slow path).
_TS_SQL = {
    "postgresql": (  # years 1 to 9999 only, as Python reads them; NULL takes the slow path
        "CASE WHEN created_at >= '0001-01-01 00:00:00+00' AND created_at < '9999-12-31 "
        """23:59:59.999999+00' THEN to_char(created_at AT TIME ZONE 'UTC', """
        """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    ),
    "sqlite": "created_at",  # as stored, 'YYYY-MM-DD HH:MM:SS.ffffff'
}
# The DB-API parameter marker of each paramstyle the drivers Kluis uses have.
PARAM_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
# Printable ASCII without '"' and '\': spelled inside JSON quotes as is.
_PLAIN = re.compile(r"[ !#-\[\]-~]*").fullmatch
_SQLITE_TS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}"
).fullmatch
# The standard scanner: one JSON value from a position, (value, end) or StopIteration.
_scan_value = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]


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


def scan_entries(session: Session) -> tuple[list[bytes], str | None]:
    """Every entry's recomputed leaf hash, in index order, and the first problem found."""
    connection = session.connection()  # the session's transaction
    dialect = connection.dialect
    ts_sql = _TS_SQL.get(dialect.name)
    marker = PARAM_MARKERS.get(dialect.paramstyle)
    if ts_sql is None or marker is None:
        return _scan_rows(session)
    first_sql = f"{_SELECT.format(ts=ts_sql)} ORDER BY idx LIMIT {SCAN_ROWS}"
    next_sql = f"{_SELECT.format(ts=ts_sql)} WHERE idx > {marker} ORDER BY idx LIMIT {SCAN_ROWS}"
    sha256 = hashlib.sha256
    scan_value = _scan_value
    plain = _PLAIN
    from_iso = dt.datetime.fromisoformat
    sqlite_ts = _SQLITE_TS if dialect.name == "sqlite" else None
    leaves: list[bytes] = []
    append = leaves.append
    problem: str | None = None
    expected = 0
    prev_json = "null"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(first_sql)
        while rows := cursor.fetchall():
            for idx, ts, event, actor, subject, entry, stored_leaf in rows:
                leaf = sha256(("\x00" + entry).encode()).digest()
                if sqlite_ts is not None:
                    ts = f"{ts[:10]}T{ts[11:]}Z" if sqlite_ts(ts) else None
                subject_json = "null" if subject is None else f'"{subject}"'
                head = f'{{"actor":"{actor}","details":'
                tail = (
                    f',"event":"{event}","idx":{idx},"prev":{prev_json},'
                    f'"subject":{subject_json},"ts":"{ts}"}}'
                )
                try:
                    fast = (
                        idx == expected
                        and leaf == stored_leaf
                        and from_iso(ts[:-1]) is not None  # a real date and time
                        and plain(f"{actor}{event}{subject or ''}") is not None
                        and entry.startswith(head)
                        and entry.endswith(tail)
                        and scan_value(entry, len(head))[1] == len(entry) - len(tail)
                    )
                except (StopIteration, TypeError, ValueError, RecursionError):
                    fast = False
                if not fast and problem is None:
                    prev = leaves[-1] if leaves else None
                    problem = _slow(session, idx, leaf, expected, prev)
                append(leaf)
                expected += 1
                prev_json = f'"{leaf.hex()}"'
            cursor.execute(next_sql, (rows[-1][0],))
    finally:
        cursor.close()
    return leaves, problem


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
