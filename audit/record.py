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
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from audit.models import AuditEntry
from core import (
    PERSONAL_FIELDS,
    Prepared,
    canonical_json,
    execute_on_driver,
    lock_named,
    no_rows,
    personal_data_in,
    require_transaction,
    utcnow,
)

# Matched whole (`$` would let a trailing newline through). What they accept is printable
# ASCII without quotes or backslashes, which JSON spells as it is (see `_spell`).
EVENT_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
ACTOR_PATTERN = re.compile(r"[a-z][a-z_]*(:[A-Za-z0-9._~\-]{1,128})?")
SUBJECT_REF_PATTERN = re.compile(r"[0-9a-f]{64}")
_LOCK_NAME = "kluis.audit_entries"
_TAIL_KEY = "kluis.audit_tail"  # session.info: (transaction, last idx, last leaf hash)
_INSERT = insert(cast(Table, AuditEntry.__table__))
_LOCKED_TAIL = "SELECT idx, leaf_hash FROM audit_locked_tail(%s)"  # PostgreSQL
# PostgreSQL, batches below COPY_MIN_ROWS: lock, tail and INSERT in one call (migration 0023)
_APPEND = (
    "SELECT first_idx, prev_leaf, last_leaf FROM audit_append(%s, %s, %b::text[], %b::text[], "
    "%b::text[], %b::text[], %b::text[])"
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
# PostgreSQL, batches from this size on: COPY (binary) instead of `audit_append`.
COPY_MIN_ROWS = 64
_CHUNK = 100  # entries spelled before they are sent (COPY)
_COPY_SQL = (
    "COPY audit_entries (idx, created_at, event, actor, subject_ref, entry, leaf_hash) "
    "FROM STDIN (FORMAT BINARY)"
)
_COPY_TYPES = ("int8", "timestamptz", "text", "text", "text", "text", "bytea")
_SCALARS = (int, float, bool, type(None))  # hold no text, so no personal data


class PersonalDataInAudit(ValueError):
    """A caller tried to put something that looks like personal data into the audit log."""


def _check_details(details: Any, path: str = "details") -> None:
    if isinstance(details, Mapping):
        for key, value in details.items():
            if str(key).lower() in PERSONAL_FIELDS:
                raise PersonalDataInAudit(f"{path}.{key} is a personal-data field")
            _check_details(value, f"{path}.{key}")
    elif isinstance(details, list | tuple):
        for i, value in enumerate(details):
            _check_details(value, f"{path}[{i}]")
    elif isinstance(details, str) and (kind := personal_data_in(details)):
        raise PersonalDataInAudit(f"{path} looks like {kind}")


def _clean(value: Any, texts: set[str], keys: set[str]) -> bool:
    """Whether `value` passes `_check_details`, without building paths, for the plain JSON
    types (anything else gets `_check_details` itself). `texts` and `keys` hold the strings
    that passed already in this batch: each distinct string is checked once."""
    kind = type(value)
    if kind is dict:
        for key in value:
            if key not in keys:
                if type(key) is not str or key.lower() in PERSONAL_FIELDS:
                    return _passes(value)  # a refused or unusual key: the checks as they are
                keys.add(key)
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        items = None
    if items is not None:
        for item in items:
            if type(item) is str:
                if item not in texts:
                    if personal_data_in(item):
                        return False
                    texts.add(item)
            elif type(item) not in _SCALARS and not _clean(item, texts, keys):
                return False
        return True
    if kind is str:
        return value in texts or not personal_data_in(value)
    return kind in _SCALARS or _passes(value)


def _passes(value: Any) -> bool:
    try:
        _check_details(value)
    except PersonalDataInAudit:
        return False
    return True


class Appended(NamedTuple):
    """An appended entry as stored (the `audit_entries` row; read it with `session.get`)."""

    idx: int
    created_at: dt.datetime
    event: str
    actor: str
    subject_ref: str | None
    entry: str
    leaf_hash: bytes


class Pending(NamedTuple):
    """One entry for `record_many`: the arguments of `record` after the session."""

    event: str
    actor: str
    subject_ref: str | None = None
    details: Mapping[str, Any] | None = None


def _check_names(event_name: str, actor: str, subject_ref: str | None) -> None:
    if not isinstance(event_name, str) or not EVENT_PATTERN.fullmatch(event_name):
        raise ValueError(f"audit event {event_name!r} is not a dotted lower-case name")
    if not isinstance(actor, str) or not ACTOR_PATTERN.fullmatch(actor):
        raise ValueError("audit actor must be a role optionally followed by ':<opaque id>'")
    if subject_ref is not None and not (
        isinstance(subject_ref, str) and SUBJECT_REF_PATTERN.fullmatch(subject_ref)
    ):
        raise ValueError("audit subject_ref must be an opaque 64-hex reference")


def _checked(items: list[Pending]) -> list[str]:
    """Every item's details as canonical JSON; the first item refused raises. Each distinct
    (event, actor, subject) and each distinct string is checked once per batch."""
    names: set[tuple[str, str, str | None]] = set()
    texts: set[str] = set()
    keys: set[str] = set()
    encode = _canonical_encoder()
    checked = []
    for event_name, actor, subject_ref, details in items:
        if (event_name, actor, subject_ref) not in names:
            _check_names(event_name, actor, subject_ref)
            names.add((event_name, actor, subject_ref))
        if type(details) is not dict:
            details = dict(details or {})
        if not _clean(details, texts, keys):
            _check_details(details)  # raises, naming where
            raise AssertionError("the details checks disagree")  # pragma: no cover
        text = "".join(encode(details, 0))
        if not text.isascii():
            text.encode()  # refuses what UTF-8 cannot hold (lone surrogates) before any write
        checked.append(text)
    return checked


def _canonical_encoder() -> Callable[[Any, int], Sequence[str]]:
    """`canonical_json`'s encoder without its per-call set-up: `JSONEncoder.encode` builds a
    new C encoder for every value; one per batch does (a fresh one: it keeps the containers
    it is inside of, for its circular-reference check). Its chunks join to the same text."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover (CPython has it)
        return lambda value, _level: [canonical_json(value).decode()]
    default = json.JSONEncoder().default  # the TypeError canonical_json raises
    encoder: Callable[[Any, int], Sequence[str]] = make(
        {}, default, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    return encoder


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
    PostgreSQL one call of `audit_append`, or one COPY from `COPY_MIN_ROWS` entries on).

    Every item is checked first: if one is refused, nothing is appended. Each entry is chained
    to the one before it exactly as consecutive `record` calls would chain them; the entries
    of one call share one moment (`created_at` and `ts`), the moment they are appended.
    """
    items = list(items)
    checked = _checked(items)
    if not items:
        return []
    # The caller's pending state changes reach the database first, in this same transaction.
    session.flush()
    # One moment for the whole batch: its entries are appended at once, in one transaction.
    now = utcnow()
    ts = _TS % (now.year, now.month, now.day, now.hour, now.minute, now.second, now.microsecond)
    connection = session.connection()
    spelled = _spelled(items, checked, ts)
    appended: list[Appended]
    if connection.dialect.name == "postgresql" and len(items) < COPY_MIN_ROWS:
        appended = _append_on_server(connection, items, list(spelled), now)
    else:
        idx, prev = _tail(session)
        entries = _chained(items, spelled, idx, prev, now)
        appended = []
        with _writer(session, appended, ts) as written:
            # in chunks: PostgreSQL stores the rows sent while the next ones are spelled
            while chunk := list(islice(entries, _CHUNK)):
                appended += chunk
                written(len(chunk))
    last = appended[-1]
    session.info[_TAIL_KEY] = (session.get_transaction(), last.idx, last.leaf_hash)
    return appended


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


def _append_on_server(
    connection: Connection, items: list[Pending], spelled: list[tuple[str, str]], now: dt.datetime
) -> list[Appended]:
    """PostgreSQL, a small batch: the lock, the read of the tail and the INSERT in one round
    trip (migration 0023's `audit_append`, which completes each entry with its index and
    predecessor and hashes it). The entries are completed and hashed here as well; the last
    leaf must be the one the database stored, or nothing goes on. One statement, so it holds
    the lock throughout also where each statement commits on its own (autocommit)."""
    events, actors, subjects, _ = (list(column) for column in zip(*items, strict=True))
    heads, tails = (list(column) for column in zip(*spelled, strict=True))
    params = (_LOCK_NAME, now, events, actors, subjects, heads, tails)
    first, before, last = execute_on_driver(connection, _APPEND, params, _fetchone)
    appended = list(_chained(items, spelled, first, before, now))
    if appended[-1].leaf_hash != last:
        # (in a transaction the caller's rollback undoes the append; in autocommit it stays,
        # chained to the text the database hashed, and this request fails)
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

    PostgreSQL (batches from `COPY_MIN_ROWS` entries on): each chunk is sent with COPY
    (binary) as soon as it is spelled, so the server inserts while the next one is; at 1,000
    rows COPY took less than half the client's CPU of an INSERT from arrays (none to build
    and take apart, no text to convert) and a round trip more (the server answers COPY
    before rows come). Otherwise: one INSERT of them all at the end.
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        psycopg: Any = connection.connection.driver_connection  # its transaction
        with psycopg.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
            copy.set_types(_COPY_TYPES)
            write = copy.write_row

            def send(added: int) -> None:
                for row in appended[len(appended) - added :]:
                    write(row)

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
