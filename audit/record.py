"""The audit log core: `record()` appends one entry inside the caller's transaction.

Entries name residents only by opaque references (`keys.SubjectKeys.reference`), never by
name, e-mail, postcode or birth date; `record` refuses details that look like personal data
as a last line of defence. Each entry is canonical JSON whose RFC 9162 leaf hash is stored
with it, so the Merkle tree over the log can be built without re-reading payloads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from audit.entries import Pending, PersonalDataInAudit, _checked
from audit.models import AuditEntry
from core import (
    Prepared,
    driver_errors,
    execute_on_driver,
    lock_named,
    no_rows,
    require_transaction,
    utcnow,
)

__all__ = [  # the checks live in audit.entries; Pending and the refusal are taken over
    "PIPELINE_MIN_ROWS",
    "Appended",
    "Pending",
    "PersonalDataInAudit",
    "record",
    "record_if",
    "record_many",
]

log = logging.getLogger("kluis.audit")
_LOCK_NAME = "kluis.audit_entries"
_TAIL_KEY = "kluis.audit_tail"  # session.info: (transaction, last idx, last leaf hash)
_INSERT = insert(cast(Table, AuditEntry.__table__))
_LOCKED_TAIL = "SELECT idx, leaf_hash FROM audit_locked_tail(%s)"  # PostgreSQL
# PostgreSQL, batches below PIPELINE_MIN_ROWS: lock, tail and INSERT in one call (migration 0023)
_APPEND = (
    "SELECT first_idx, prev_leaf, last_leaf FROM audit_append(%s, %s, %b::text[], %b::text[], "
    "%b::text[], %b::text[], %b::text[])"
)
# ... and after a write, the `w` of `Prepared.first_joined`, only if it wrote (migration 0024)
_IF_NAMES = tuple(f"kluis_audit_{n}" for n in ("lock", "at", "ev", "act", "sub", "head", "tail"))
_APPEND_IF = (
    "SELECT first_idx, prev_leaf, last_leaf FROM audit_append_if((SELECT count(*) > 0 FROM w), "
    "%(kluis_audit_lock)s, %(kluis_audit_at)s, %(kluis_audit_ev)b::text[], "
    "%(kluis_audit_act)b::text[], %(kluis_audit_sub)b::text[], %(kluis_audit_head)b::text[], "
    "%(kluis_audit_tail)b::text[])"
)
_LAST_ENTRY = Prepared(  # every audited request runs it
    select(AuditEntry.idx, AuditEntry.leaf_hash).order_by(AuditEntry.idx.desc()).limit(1)
)
# An entry's `ts`: `utcnow().isoformat(timespec="microseconds")` with "Z" for "+00:00"
_TS = "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"
# SQLite: one prepared statement for every row. Other databases go through SQLAlchemy.
_INSERT_SQL = {
    "sqlite": (
        "INSERT INTO audit_entries (idx, created_at, event, actor, subject_ref, entry, "
        "leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?)"
    ),
}
# PostgreSQL, batches from this size on: INSERTs of `_CHUNK` rows in a pipeline instead of
# one `audit_append`.
PIPELINE_MIN_ROWS = 64
_CHUNK = 50  # entries spelled before they are sent (PostgreSQL)
# A chunk's entries have consecutive indices and one moment (`_chained`): the first index and
# the moment are sent once, the index counted on by ORDINALITY, the other columns as arrays
# (about 9 % less of the client's CPU per entry than an array of each, `audit` round 9).
_INSERT_ROWS = (
    "INSERT INTO audit_entries (idx, created_at, event, actor, subject_ref, entry, leaf_hash) "
    "SELECT %b::int8 + o - 1, %b::timestamptz, e, a, s, t, h FROM unnest(%b::text[], "
    "%b::text[], %b::text[], %b::text[], %b::bytea[]) WITH ORDINALITY AS u(e, a, s, t, h, o)"
)


class Appended(NamedTuple):
    """An appended entry as stored (the `audit_entries` row; read it with `session.get`)."""

    idx: int
    created_at: dt.datetime
    event: str
    actor: str
    subject_ref: str | None
    entry: str
    leaf_hash: bytes


def record(
    session: Session,
    event: str,
    actor: str,
    subject_ref: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Appended:
    """Append an audit entry in the caller's transaction and return it.

    `event` is a dotted name (`key.rotated`), `actor` who acted (`operator:cli`,
    `client:<client_id>`, `resident`, `system`), `subject_ref` the resident's opaque audit
    reference or None, `details` JSON facts without personal data.
    """
    return record_many(session, [Pending(event, actor, subject_ref, details)])[0]


def record_many(session: Session, items: Iterable[Pending]) -> list[Appended]:
    """Append several entries, in order, in the caller's transaction (one INSERT; on
    PostgreSQL one call of `audit_append`, or pipelined INSERTs from `PIPELINE_MIN_ROWS` entries
    on).

    Every item is checked first: if one is refused, nothing is appended. Each entry is chained
    to the one before it exactly as consecutive `record` calls would chain them; the entries
    of one call share one moment (`created_at` and `ts`), the moment they are appended.
    """
    items = list(items)
    checked = _checked(items)
    if not items:
        return []
    return _append(session, items, checked)


def _append(session: Session, items: list[Pending], checked: list[str]) -> list[Appended]:
    """`record_many` of `items` whose details `_checked` spelled as `checked`."""
    # The caller's pending state changes reach the database first, in this same transaction.
    session.flush()
    now, ts = _moment()
    connection = session.connection()
    appended: list[Appended]
    if connection.dialect.name == "postgresql" and len(items) < PIPELINE_MIN_ROWS:
        spelled = list(_spelled(items, checked, ts))
        values = _append_values(items, spelled, now)
        found = execute_on_driver(connection, _APPEND, values, _fetchone)
        appended = _completed(items, spelled, found, now)
    else:
        idx, prev = _tail(session)
        entries = _chained(items, _spelled(items, checked, ts), idx, prev, now)
        appended = []
        with _writer(session, appended, ts) as written:
            # in chunks: PostgreSQL stores the rows sent while the next ones are spelled
            while chunk := list(islice(entries, _CHUNK)):
                appended += chunk
                written(len(chunk))
    _note_tail(session, appended)
    return appended


def record_if(
    session: Session,
    write: Prepared,
    params: Mapping[str, Any],
    event: str,
    actor: str,
    subject_ref: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Any | None:
    """`write` (an INSERT or UPDATE with RETURNING) and, if it returned a row, the entry
    `record` would append: the write's first row, or None when it returned none (then
    nothing is appended). The entry is checked before anything is written.

    On PostgreSQL both are one statement (`Prepared.first_joined`: the write, then
    `audit_append_if` told whether it wrote, migration 0024): a round trip less, and the
    change and its entry are as atomic alone (in autocommit) as in the caller's transaction.
    Elsewhere the write, then the append."""
    items = [Pending(event, actor, subject_ref, details)]
    checked = _checked(items)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        row = write.first(session, params)
        if row is not None:
            _append(session, items, checked)
        return row
    now, ts = _moment()
    spelled = list(_spelled(items, checked, ts))
    values = dict(zip(_IF_NAMES, _append_values(items, spelled, now), strict=True))
    joined = write.first_joined(session, params, _APPEND_IF, values)
    if joined is None:
        return None
    row, found = joined
    _note_tail(session, _completed(items, spelled, found, now))
    return row


def _moment() -> tuple[dt.datetime, str]:
    """Now, and as an entry's `ts` spells it."""
    now = utcnow()
    ts = _TS % (now.year, now.month, now.day, now.hour, now.minute, now.second, now.microsecond)
    return now, ts


def _note_tail(session: Session, appended: list[Appended]) -> None:
    last = appended[-1]
    session.info[_TAIL_KEY] = (session.get_transaction(), last.idx, last.leaf_hash)


def _spelled(items: list[Pending], checked: list[str], ts: str) -> Iterator[tuple[str, str]]:
    """Each entry's canonical JSON (sorted keys, no spaces: a test checks it against
    `canonical_json`) but its index and predecessor: the text up to ``"idx":`` and the text
    after its `prev` (`_spell`, with the details as `checked` spelled them)."""
    # (event, actor, subject) -> the text before, between and after the details and the
    # index; each distinct one is spelled once per batch
    parts_of: dict[tuple[str, str, str | None], tuple[str, str, str]] = {}
    # items and their details side by side: no pair per entry to allocate and keep
    for (event_name, actor, subject_ref, _), details in zip(items, checked, strict=True):
        parts = parts_of.get((event_name, actor, subject_ref))
        if parts is None:
            parts = parts_of[event_name, actor, subject_ref] = _spell(
                event_name, actor, subject_ref, ts
            )
        yield f"{parts[0]}{details}{parts[1]}", parts[2]


def _chained(
    items: list[Pending],
    spelled: Iterable[tuple[str, str]],
    idx: int,
    prev: bytes | None,
    now: dt.datetime,
) -> Iterator[Appended]:
    """The entries of `items` (spelled by `_spelled`) from index `idx` on, the first chained
    to the leaf `prev`."""
    sha256 = hashlib.sha256
    # Chaining each entry to its predecessor's leaf lets verification name the exact entry
    # that was rewritten, even when its stored leaf hash was rewritten with it.
    prev_json = "null" if prev is None else f'"{prev.hex()}"'
    for (event_name, actor, subject_ref, _), (head, tail) in zip(items, spelled, strict=True):
        text = f'{head}{idx},"prev":{prev_json}{tail}'
        prev = sha256(b"\x00" + text.encode()).digest()  # RFC 9162 leaf hash
        yield Appended(idx, now, event_name, actor, subject_ref, text, prev)
        prev_json = f'"{prev.hex()}"'
        idx += 1


def _append_values(
    items: list[Pending], spelled: list[tuple[str, str]], now: dt.datetime
) -> tuple[Any, ...]:
    """The arguments of `audit_append` (PostgreSQL, a small batch: the lock, the read of the
    tail and the INSERT in one round trip, migration 0023), which completes each entry with
    its index and predecessor and hashes it. One statement, so it holds the lock throughout
    also where each statement commits on its own (autocommit)."""
    events, actors, subjects, _ = (list(column) for column in zip(*items, strict=True))
    heads, tails = (list(column) for column in zip(*spelled, strict=True))
    return (_LOCK_NAME, now, events, actors, subjects, heads, tails)


def _completed(
    items: list[Pending],
    spelled: list[tuple[str, str]],
    found: tuple[int, bytes | None, bytes],
    now: dt.datetime,
) -> list[Appended]:
    """The entries `audit_append` stored from index `found[0]` on after the leaf `found[1]`,
    completed and hashed here as well: the last leaf must be the one the database stored
    (`found[2]`), or nothing goes on."""
    first, before, last = found
    appended = list(_chained(items, spelled, first, before, now))
    if appended[-1].leaf_hash != last:
        # (in a transaction the caller's rollback undoes the append; in autocommit it stays,
        # chained to the text the database hashed, and this request fails: the indices and
        # leaves, no entry text, let an operator find it)
        log.error(
            "audit entries %d-%d: the database's last leaf %s, Kluis's %s",
            first,
            appended[-1].idx,
            "-" if last is None else last.hex(),
            appended[-1].leaf_hash.hex(),
        )
        raise RuntimeError("the database spelled an audit entry differently from Kluis")
    return appended


def _spell(event_name: str, actor: str, subject_ref: str | None, ts: str) -> tuple[str, str, str]:
    """An entry's canonical JSON before its details, between them and its index, and after
    its prev: ``{"actor":A,"details":`` D ``,"event":E,"idx":`` I ``,"prev":`` P
    ``,"subject":S,"ts":T}``. Event, actor and subject passed the patterns above (JSON spells
    them as they are); idx, prev and ts are Kluis's own; the details are canonical JSON."""
    subject = "null" if subject_ref is None else f'"{subject_ref}"'
    return (
        f'{{"actor":"{actor}","details":',
        f',"event":"{event_name}","idx":',
        f',"subject":{subject},"ts":"{ts}"}}',
    )


@contextlib.contextmanager
def _writer(session: Session, appended: list[Appended], ts: str) -> Iterator[Callable[[int], None]]:
    """Stores the entries the caller adds to `appended`, told after each chunk how
    many it added.

    PostgreSQL (batches from `PIPELINE_MIN_ROWS` entries on): each chunk is sent as an
    INSERT from arrays as soon as it is spelled, in pipeline mode (no wait for its answer), so
    the server stores it while the next one is spelled. Binary COPY, used before, kept every
    row in the server's buffer until the COPY ended (PostgreSQL's COPY FROM inserts binary
    rows 1,000 at a time) and the client waited for all of them: pipelined, a batch of 1,000
    took 11-15 % less time (`bench/README.md`, `audit` round 8). Otherwise: one INSERT of
    them all at the end.
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        psycopg: Any = connection.connection.driver_connection  # its transaction
        # a driver error is raised as SQLAlchemy raises one, without the values
        with (
            driver_errors(connection, _INSERT_ROWS),
            psycopg.pipeline(),
            psycopg.cursor() as cursor,
        ):

            def send(added: int) -> None:
                rows = appended[len(appended) - added :]
                _, _, *columns = zip(*rows, strict=True)  # idx and moment: the first row's
                values = [rows[0].idx, rows[0].created_at, *(list(c) for c in columns)]
                cursor.execute(_INSERT_ROWS, values)

            yield send
        return
    yield lambda _added: None
    sql = _INSERT_SQL.get(dialect)
    if sql is None:
        connection.execute(_INSERT, [a._asdict() for a in appended])
    else:  # SQLite: `created_at` as SQLAlchemy's SQLite DATETIME stores it, from the `ts`
        created = f"{ts[:10]} {ts[11:26]}"
        rows = [(a[0], created, *a[2:]) for a in appended]
        execute_on_driver(connection, sql, rows, no_rows, many=True)


def _tail(session: Session) -> tuple[int, bytes | None]:
    """The next index and the last leaf hash, under the append lock.

    The first append of a transaction takes the lock (held until commit or rollback) and reads
    the last row; later appends in the same transaction know the tail already, since nobody
    else can append meanwhile (PostgreSQL: the advisory lock; SQLite: our write lock).
    """
    connection = session.connection()
    # the lock must outlast this statement: in autocommit it would not (nor a known tail)
    require_transaction(connection, _LOCK_NAME)
    known = session.info.get(_TAIL_KEY)
    if known is not None and known[0] is session.get_transaction():
        return known[1] + 1, known[2]
    if connection.dialect.name == "postgresql":
        # `lock_named`'s lock and the read in one round trip (migration 0022: the function's
        # SELECT takes its snapshot after the lock is granted)
        last = execute_on_driver(connection, _LOCKED_TAIL, (_LOCK_NAME,), _fetchone)
    else:
        lock_named(session, _LOCK_NAME)
        last = _LAST_ENTRY.first(session, {})  # flushed by record_many
    return (0, None) if last is None else (last[0] + 1, last[1])


def _fetchone(cursor: Any) -> Any:
    return cursor.fetchone()


@event.listens_for(Session, "after_transaction_end")
def _forget_tail(session: Session, transaction: SessionTransaction) -> None:
    # Any end (commit, rollback, also of a savepoint) may have undone appends: re-read.
    session.info.pop(_TAIL_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_tail_on_rewrite(state: ORMExecuteState) -> None:
    # Only tests and tampering drills change stored entries; then the tail is re-read.
    table = getattr(state.statement, "table", None)
    if not state.is_select and getattr(table, "name", None) == AuditEntry.__tablename__:
        state.session.info.pop(_TAIL_KEY, None)
