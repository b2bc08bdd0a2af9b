"""The audit log core: `record()` appends one entry inside the caller's transaction.

Entries name residents only by opaque references (`keys.SubjectKeys.reference`), never by
name, e-mail, postcode or birth date; `record` refuses details that look like personal data
as a last line of defence. Each entry is canonical JSON whose RFC 9162 leaf hash is stored
with it, so the Merkle tree over the log can be built without re-reading payloads.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, event, insert, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from audit.merkle import leaf_hash
from audit.models import AuditEntry
from core import PERSONAL_FIELDS, canonical_json, lock_named, personal_data_in, utcnow

EVENT_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
ACTOR_PATTERN = re.compile(r"^[a-z][a-z_]*(:[A-Za-z0-9._~\-]{1,128})?$")
SUBJECT_REF_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_LOCK_NAME = "kluis.audit_entries"
_TAIL_KEY = "kluis.audit_tail"  # session.info: (transaction, last idx, last leaf hash)
_INSERT = insert(cast(Table, AuditEntry.__table__))
_LAST_ENTRY = (  # built once: every audited request runs it
    select(AuditEntry.idx, AuditEntry.leaf_hash).order_by(AuditEntry.idx.desc()).limit(1)
)


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


@dataclasses.dataclass(frozen=True, slots=True)
class Appended:
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


def _checked(item: Pending) -> Pending:
    if not EVENT_PATTERN.match(item.event):
        raise ValueError(f"audit event {item.event!r} is not a dotted lower-case name")
    if not ACTOR_PATTERN.match(item.actor):
        raise ValueError("audit actor must be a role optionally followed by ':<opaque id>'")
    if item.subject_ref is not None and not SUBJECT_REF_PATTERN.match(item.subject_ref):
        raise ValueError("audit subject_ref must be an opaque 64-hex reference")
    details = dict(item.details or {})
    _check_details(details)
    return item._replace(details=details)


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
    """Append several entries, in order, in the caller's transaction (one INSERT).

    Every item is checked first: if one is refused, nothing is appended. Each entry is chained
    to the one before it exactly as consecutive `record` calls would chain them.
    """
    checked = [_checked(item) for item in items]
    if not checked:
        return []
    # The caller's pending state changes reach the database first, in this same transaction.
    session.flush()
    idx, prev = _tail(session)
    rows: list[dict[str, Any]] = []
    for item in checked:
        now = utcnow()
        payload = {
            "idx": idx,
            # Chaining each entry to its predecessor's leaf lets verification name the exact
            # entry that was rewritten, even when its stored leaf hash was rewritten with it.
            "prev": prev.hex() if prev is not None else None,
            "ts": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "event": item.event,
            "actor": item.actor,
            "subject": item.subject_ref,
            "details": item.details,
        }
        entry_bytes = canonical_json(payload)
        prev = leaf_hash(entry_bytes)
        rows.append(
            {
                "idx": idx,
                "created_at": now,
                "event": item.event,
                "actor": item.actor,
                "subject_ref": item.subject_ref,
                "entry": entry_bytes.decode("utf-8"),
                "leaf_hash": prev,
            }
        )
        idx += 1
    session.connection().execute(_INSERT, rows)
    session.info[_TAIL_KEY] = (session.get_transaction(), idx - 1, prev)
    return [Appended(**row) for row in rows]


def _tail(session: Session) -> tuple[int, bytes | None]:
    """The next index and the last leaf hash, under the append lock.

    The first append of a transaction takes the lock (held until commit or rollback) and reads
    the last row; later appends in the same transaction know the tail already, since nobody
    else can append meanwhile (PostgreSQL: the advisory lock; SQLite: our write lock).
    """
    known = session.info.get(_TAIL_KEY)
    if known is not None and known[0] is session.get_transaction():
        return known[1] + 1, known[2]
    lock_named(session, _LOCK_NAME)
    last = session.connection().execute(_LAST_ENTRY).first()  # flushed by record_many
    return (0, None) if last is None else (last.idx + 1, last.leaf_hash)


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
