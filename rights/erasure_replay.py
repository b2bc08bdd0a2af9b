"""Re-apply erasures after a restore, from the tombstone journal (rights/tombstones.py).

A restored database is what the service knew when the backup was taken. For each tombstone,
in journal order, `reapply_tombstones` decides:

- the restored database has the request: the erasure was in the backup (its transaction also
  destroyed the key and deleted the rows), nothing to do;
- the account is in the restored database: execute the erasure again, under the original
  request id, reference and date (so the same due date). Peer vouching forgets the account
  first (`vouching.forget_account`, as a fresh erasure does): the confirmations it gave stop
  counting and residents who fall below the threshold lose `real_person` at once, their
  platforms told, rather than at the next settle. That shreds the data key again,
  deletes the account or the field, revokes access and queues the notices again: the restored
  database lacks the original deliveries, so every platform that may hold data (from the
  restored ledger and grants, and the platforms the journal says were told) is told again.
  Erasure notices are idempotent for a platform (the account is already purged);
- the account is not in the restored database (it was created after the backup): nothing of
  theirs is there to shred. The request is recorded again and the platforms the journal names
  are told again, since their deliveries were lost with everything after the backup.

Each re-applied tombstone is audited (`erasure.reapplied`), and the whole restore once
(`backup.restored`), in the same transaction. The caller commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from attestations import vouching
from audit import record
from core import utcnow
from identity import Account, Accounts, Provider
from rights.erasure import execute_erasure, notify_platform, platform_notices
from rights.field_erasure import FIELDS, execute_field_erasure, notify_claims_change
from rights.lifecycle import ERASURE_PERIOD, PROPAGATING, refresh_erasure_states
from rights.models import ErasureDelivery, ErasureRequest
from rights.tombstones import JournalError, Tombstone


@dataclasses.dataclass
class Reapplied:
    request_id: str
    kind: str
    field: str | None
    account_in_backup: bool
    deliveries: int

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class ReplayReport:
    journal_entries: int = 0
    already_in_backup: int = 0
    reapplied: list[Reapplied] = dataclasses.field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for r in self.reapplied if r.kind == kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "journal_entries": self.journal_entries,
            "already_in_backup": self.already_in_backup,
            "reapplied_accounts": self.count("account"),
            "reapplied_fields": self.count("field"),
            "deliveries": sum(r.deliveries for r in self.reapplied),
            "reapplied": [r.to_json() for r in self.reapplied],
        }


def _deliveries(session: Session, request_id: str) -> int:
    session.flush()
    return (
        session.query(ErasureDelivery)
        .filter(ErasureDelivery.request_id == request_id, ErasureDelivery.kind != "manual")
        .count()
    )


def _record_again(session: Session, provider: Provider, tombstone: Tombstone) -> int:
    """The account is not in the restored database: record the request and tell the
    platforms the journal names again. Returns the deliveries queued."""
    now = utcnow()
    request = ErasureRequest(
        id=tombstone.request_id,
        subject_ref=tombstone.subject_ref,
        requested_by=tombstone.requested_by,
        actor=tombstone.actor,
        reason="",
        field=tombstone.field,
        status=PROPAGATING,
        received_at=tombstone.received_at,
        due_at=tombstone.received_at + ERASURE_PERIOD,
        executed_at=now,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    # A data key without an account (never expected) is shredded all the same.
    provider.subject_keys.destroy(session, tombstone.account_id)
    notices = platform_notices(session, provider, tombstone.account_id, tombstone.platforms)
    queued = 0
    for notice in notices:
        if tombstone.field is None:
            queued += notify_platform(session, provider, request, notice)
        else:
            claims = tombstone.platforms[notice.client.client_id]
            queued += notify_claims_change(
                session,
                provider,
                request,
                tombstone.account_id,
                notice.client.client_id,
                claims,
                tombstone.received_at,
            )
    refresh_erasure_states(session, now, request_id=request.id)
    return queued


def _reapply_one(
    session: Session,
    provider: Provider,
    accounts: Accounts,
    tombstone: Tombstone,
    vouching_config: vouching.VouchingConfig | None,
) -> Reapplied:
    present = session.get(Account, tombstone.account_id) is not None
    if not present:
        queued = _record_again(session, provider, tombstone)
    elif tombstone.field is None:
        request = execute_erasure(
            session,
            provider,
            account_id=tombstone.account_id,
            requested_by=tombstone.requested_by,
            actor=tombstone.actor,
            accounts=accounts,
            replay=tombstone,
            vouching_config=vouching_config,
        )
        queued = _deliveries(session, request.id)
    else:
        request = execute_field_erasure(
            session,
            provider,
            account_id=tombstone.account_id,
            field=tombstone.field,
            requested_by=tombstone.requested_by,
            actor=tombstone.actor,
            replay=tombstone,
        )
        queued = _deliveries(session, request.id)
    return Reapplied(tombstone.request_id, tombstone.kind, tombstone.field, present, queued)


def reapply_tombstones(
    session: Session,
    provider: Provider,
    accounts: Accounts,
    tombstones: Sequence[Tombstone],
    *,
    actor: str,
    restore: dict[str, Any],
    vouching_config: vouching.VouchingConfig | None = None,
) -> ReplayReport:
    """Re-apply every tombstone whose request the database lacks; audit each and the restore
    (`restore`: facts about the restored backup, without personal data). With
    `vouching_config`, peer vouching forgets each erased account still in the database (without
    it, the next periodic settle catches up). The caller commits."""
    unknown = sorted({t.field for t in tombstones if t.field is not None} - set(FIELDS))
    if unknown:
        raise JournalError(
            f"the tombstone journal names fields this version does not know: {unknown}"
        )
    report = ReplayReport(journal_entries=len(tombstones))
    for tombstone in tombstones:
        if session.get(ErasureRequest, tombstone.request_id) is not None:
            report.already_in_backup += 1
            continue
        done = _reapply_one(session, provider, accounts, tombstone, vouching_config)
        report.reapplied.append(done)
        record(session, "erasure.reapplied", actor, tombstone.subject_ref, done.to_json())
    summary = report.to_json()
    del summary["reapplied"]
    summary["requests"] = [r.request_id for r in report.reapplied]
    record(session, "backup.restored", actor, None, {**restore, **summary})
    return report
