"""The periodic settling of the whole graph (`settle`), in batches.

Settling re-judges every peer attestation that still counts, which at 100 000 members takes
many seconds. Confirmations and claims must not wait that long for `GRAPH_LOCK`, so the sweep
runs as a series of short transactions, each of which takes the lock, RE-READS what it decides
on (the grants of its accounts and the graph they rest on, as they are now), decides, unwinds
what rested on what it ended (to a fixed point, as the cascade does), and commits, which
releases the lock. Between batches confirmations, claims and cascades proceed.

What holds all the same: every decision (a lapse, the quota and threshold of a confirmation, a
new grant) is made under the lock on what the database says at that moment, and every batch
leaves the graph at a fixed point for what it ended. A confirmation made between batches can
only raise counts; a grant made between batches rests on what earlier batches left, and if a
later batch ends one of its vouchers, that batch's unwinding follows the voucher's vouchees
and judges the new grant too. A grant made after its account's batch is judged by the next
settle, as one made after a settle in one transaction was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from attestations.vouching.cascade import (
    CascadeOutcome,
    ClaimsChange,
    ClaimsListener,
    Lapse,
    _changes,
    _lapses,
    unwind,
)
from attestations.vouching.config import VouchingConfig
from attestations.vouching.grants import GRAPH_LOCK
from attestations.vouching.lapses import EXPIRED, lapse_grants
from attestations.vouching.models import PeerGrant
from core import lock_named, utcnow
from keys import SubjectKeys

# accounts (or expiring grants) judged per transaction: at 100 000 members a batch holds the
# lock for about a second at most on a busy 2-core machine, where the whole sweep held it for
# 17 to 49 s; smaller batches hold it shorter but re-read more (bench/vouching, bench/README)
BATCH = 250


def _batches(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _past_validity(config: VouchingConfig, moment: dt.datetime) -> list[ColumnElement[bool]]:
    """The conditions of a live grant past the deployment's peer validity."""
    return [
        PeerGrant.lapsed_at.is_(None),
        PeerGrant.expires_at > moment,
        PeerGrant.granted_at <= moment - config.rules.peer_validity,
    ]


def settle(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    now: dt.datetime | None = None,
    listener: ClaimsListener | None = None,
    actor: str = "system",
    batch: int = BATCH,
    on_lapses: Callable[[Session, list[Lapse]], object] | None = None,
) -> CascadeOutcome:
    """Re-judge every peer attestation that still counts (`grants.sound_grants`, expired ones
    too): the periodic sweep. It ends those past the peer validity (when a deployment chose it
    shorter than the credential's own) and catches what changed outside vouching (an operator
    revoked a voucher's desk attestation, an account was erased without `forget_account`, an
    address was recorded).

    It COMMITS, once per batch of `batch` accounts (see the module docstring): pass a session
    that holds nothing uncommitted and is not inside `Database.transaction()` (a
    `Database.session()`). A failure rolls back the batch at hand; those before it stand, each
    complete in itself. `on_lapses` sees each batch's lapses before that batch commits (what
    must be recorded with them, such as the e-mails owed)."""
    moment = now or utcnow()
    lapses: list[Lapse] = []
    changes: list[ClaimsChange] = []
    told: set[str] = set()

    def judged(batch_lapses: list[Lapse]) -> None:
        lapses.extend(batch_lapses)
        fresh = [lapse for lapse in batch_lapses if lapse.account_id not in told]
        changes.extend(_changes(session, fresh, listener, moment))
        told.update(change.account_id for change in changes)
        if on_lapses is not None and batch_lapses:
            on_lapses(session, batch_lapses)
        session.commit()  # releases GRAPH_LOCK

    expiring = list(
        session.scalars(
            select(PeerGrant.id).where(*_past_validity(config, moment)).order_by(PeerGrant.id)
        )
    )
    session.commit()
    for ids in _batches(expiring, batch):
        lock_named(session, GRAPH_LOCK)
        grants = session.scalars(
            select(PeerGrant).where(PeerGrant.id.in_(ids), *_past_validity(config, moment))
        ).all()
        ended = lapse_grants(session, subject_keys, grants, EXPIRED, actor, moment)
        judged(_lapses(session, grants, ended, moment))

    sound = or_(PeerGrant.lapsed_at.is_(None), PeerGrant.lapse_reason == EXPIRED)
    accounts = sorted(set(session.scalars(select(PeerGrant.account_id).where(sound))))
    session.commit()
    for part in _batches(accounts, batch):
        lock_named(session, GRAPH_LOCK)
        judged(unwind(session, subject_keys, config, part, actor=actor, now=moment))
    return CascadeOutcome(lapsed=tuple(lapses), changes=tuple(changes))
