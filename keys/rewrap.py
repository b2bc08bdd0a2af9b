"""Rotating the key-encryption secret: re-wrap every stored key under the current wrap key.

The rotation walks each table of wrapped keys in primary-key order, in bounded batches, each
batch its own transaction. A row records the fingerprint of the key that wrapped it, so the
walk is idempotent and resumable: a row already under the current key is skipped, a crash
loses at most the uncommitted batch, and a rerun picks up whatever is left. While it runs,
the service reads old and new rows alike (previous secrets stay accepted).

Each row is updated only if it is still exactly what was read (its ciphertext): a data key
destroyed by an erasure meanwhile, or a signing key pruned, stays gone instead of being
written back.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from core import Database, rowcount
from keys.errors import UnwrappableKeys
from keys.kek import WrapKeys

DEFAULT_BATCH_SIZE = 200
UNKNOWN = "unknown"


@dataclasses.dataclass(frozen=True)
class WrappedTable:
    """Where one kind of wrapped key is stored; its id is also the AEAD associated data."""

    label: str  # "signing keys", "subject keys": for operators' output
    model: type[Any]
    id_column: InstrumentedAttribute[str]
    blob_column: InstrumentedAttribute[Any]
    fingerprint_column: InstrumentedAttribute[str | None]
    wrap: WrapKeys


@dataclasses.dataclass(frozen=True)
class Batch:
    table: str
    selected: int  # rows not yet under the current key, read in this batch
    rewrapped: int  # of which re-wrapped (the others were erased or pruned meanwhile)
    last_id: str | None
    kek: str  # fingerprint of the current wrap key they are now under


def usage(session: Session, table: WrappedTable) -> Counter[str]:
    """How many keys of `table` each configured secret wraps, by name (`current`,
    `previous-N`, `root`); keys under no configured secret count as `unknown`."""
    fp = table.fingerprint_column
    rows = session.execute(
        select(fp, func.count()).where(table.blob_column.is_not(None)).group_by(fp)
    )
    counts: Counter[str] = Counter()
    for fingerprint, count in rows:
        counts[table.wrap.name_of(fingerprint) or UNKNOWN] += int(count)
    return counts


def unknown_fingerprints(session: Session, table: WrappedTable) -> Counter[str]:
    """Fingerprints of wrap keys that no configured secret yields, with their row counts."""
    fp = table.fingerprint_column
    rows = session.execute(
        select(fp, func.count()).where(table.blob_column.is_not(None)).group_by(fp)
    )
    return Counter({str(f): int(n) for f, n in rows if table.wrap.resolve(f) is None})


def rewrap_batch(session: Session, table: WrappedTable, after: str | None, limit: int) -> Batch:
    """Re-wrap up to `limit` keys of `table` that follow `after` and are not under the
    current wrap key."""
    current = table.wrap.current.fingerprint
    stale = table.fingerprint_column != current  # SQL: false for NULL
    if table.wrap.legacy_fingerprint != current:  # rows from before fingerprints: the root's
        stale = or_(table.fingerprint_column.is_(None), stale)
    query = (
        select(table.id_column, table.blob_column, table.fingerprint_column)
        .where(table.blob_column.is_not(None), stale)
        .order_by(table.id_column)
        .limit(limit)
    )
    if after is not None:
        query = query.where(table.id_column > after)
    rows = session.execute(query).all()
    rewrapped = 0
    for row_id, blob, fingerprint in rows:
        associated = row_id.encode()
        plaintext = table.wrap.unseal(blob, associated, fingerprint)
        new_blob, new_fingerprint = table.wrap.seal(plaintext, associated)
        result = session.execute(
            update(table.model)
            .where(table.id_column == row_id, table.blob_column == blob)
            .values({table.blob_column: new_blob, table.fingerprint_column: new_fingerprint})
            .execution_options(synchronize_session=False)
        )
        rewrapped += rowcount(result)
    return Batch(table.label, len(rows), rewrapped, rows[-1][0] if rows else None, current)


def check_wrapped_keys(session: Session, tables: Sequence[WrappedTable]) -> None:
    """Refuse (at start, before any request) keys that no configured secret can unwrap."""
    found = [
        (table.label, fingerprint, count)
        for table in tables
        for fingerprint, count in sorted(unknown_fingerprints(session, table).items())
    ]
    if found:
        raise UnwrappableKeys(found)


BatchHook = Callable[[Session, Batch], None]
ProgressHook = Callable[[Batch], None]


def rotate_key_encryption(
    db: Database,
    tables: Sequence[WrappedTable],
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    in_transaction: BatchHook | None = None,
    after_commit: ProgressHook | None = None,
) -> dict[str, int]:
    """Re-wrap every key of `tables` not under the current wrap key; returns how many were
    re-wrapped per table. `in_transaction` runs inside each batch's transaction (the audit
    entry), `after_commit` once the batch is durable (progress output)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    with db.transaction() as session:
        check_wrapped_keys(session, tables)
    totals = {table.label: 0 for table in tables}
    for table in tables:
        after: str | None = None
        while True:
            with db.transaction() as session:
                batch = rewrap_batch(session, table, after, batch_size)
                if batch.selected and in_transaction is not None:
                    in_transaction(session, batch)
            if not batch.selected:
                break
            totals[table.label] += batch.rewrapped
            after = batch.last_id
            if after_commit is not None:
                after_commit(batch)
    return totals
