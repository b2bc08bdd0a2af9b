"""What data stewards read: audit entries (filtered), the erasure overview and the consent
ledger overview. Plain functions without HTTP; nothing here returns personal data — audit
entries hold opaque references only, erasure requests the same, and the consent overview is
counts per platform, claim and state.

Access checks live in rights/steward_access.py; every read through the steward API or pages
is itself audited there (`steward.read`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit import AuditEntry
from consent import ConsentEvent, ConsentRecord
from rights.lifecycle import COMPLETED, OVERDUE, PlatformState, erasure_deliveries
from rights.models import ErasureRequest

MAX_PAGE = 500


@dataclasses.dataclass(frozen=True)
class EntryFilter:
    """Filters of the audit entry list; `after` is the index cursor (entries > after)."""

    event: str | None = None
    subject: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after: int | None = None
    limit: int = 100

    def used(self) -> list[str]:
        """Names of the filters in use (for the audit entry of the read; never their values
        beyond these names)."""
        return [
            f.name
            for f in dataclasses.fields(self)
            if f.name != "limit" and getattr(self, f.name) is not None
        ]


def list_entries(session: Session, flt: EntryFilter) -> list[dict[str, Any]]:
    """Audit entries matching every given filter, oldest first, at most `limit`."""
    query = select(AuditEntry).order_by(AuditEntry.idx)
    if flt.event is not None:
        query = query.where(AuditEntry.event == flt.event)
    if flt.subject is not None:
        query = query.where(AuditEntry.subject_ref == flt.subject)
    if flt.since is not None:
        query = query.where(AuditEntry.created_at >= flt.since)
    if flt.until is not None:
        query = query.where(AuditEntry.created_at < flt.until)
    if flt.after is not None:
        query = query.where(AuditEntry.idx > flt.after)
    rows = session.scalars(query.limit(max(1, min(flt.limit, MAX_PAGE))))
    return [{"index": row.idx, "entry": json.loads(row.entry)} for row in rows]


# --- erasure overview -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ErasureLine:
    request: ErasureRequest
    platforms: list[PlatformState]
    overdue: bool


def is_overdue(request: ErasureRequest, now: dt.datetime) -> bool:
    """Overdue: marked so, or past its due date without completion (before the worker
    noticed)."""
    return request.status == OVERDUE or (request.status != COMPLETED and now >= request.due_at)


def erasure_overview(session: Session, now: dt.datetime) -> list[ErasureLine]:
    """Every erasure request, newest first, with per-platform delivery state."""
    requests = session.scalars(
        select(ErasureRequest).order_by(ErasureRequest.received_at.desc(), ErasureRequest.id)
    )
    return [ErasureLine(r, erasure_deliveries(session, r.id), is_overdue(r, now)) for r in requests]


def erasure_json(line: ErasureLine) -> dict[str, Any]:
    r = line.request
    return {
        "id": r.id,
        "status": r.status,
        "overdue": line.overdue,
        "field": r.field,
        "requested_by": r.requested_by,
        "subject_ref": r.subject_ref,
        "received_at": r.received_at.isoformat(),
        "due_at": r.due_at.isoformat(),
        "completed_at": r.completed_at.isoformat() if r.completed_at else None,
        "platforms": [
            {
                "client_id": p.client_id,
                "name": p.name,
                "kind": p.kind,
                "attempts": p.attempts,
                "last_status": p.last_status,
                "acknowledged_at": p.acknowledged_at.isoformat() if p.acknowledged_at else None,
                # a platform Kluis could not tell: waits for an operator until handled_by is set
                "manual": p.manual,
                "handled_by": p.handled_by,
                "note": p.note,
            }
            for p in line.platforms
        ],
    }


# --- consent ledger overview ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConsentCount:
    client_id: str
    claim: str
    state: str
    count: int


def consent_overview(session: Session) -> list[ConsentCount]:
    """How many consent records are in each state, per platform and claim. A record's state
    is its latest event (events are append-only, so the highest id is the latest)."""
    latest = (
        select(ConsentEvent.record_id, func.max(ConsentEvent.id).label("last_id"))
        .group_by(ConsentEvent.record_id)
        .subquery()
    )
    query = (
        select(ConsentRecord.client_id, ConsentRecord.claim, ConsentEvent.event, func.count())
        .join(latest, latest.c.record_id == ConsentRecord.id)
        .join(ConsentEvent, ConsentEvent.id == latest.c.last_id)
        .group_by(ConsentRecord.client_id, ConsentRecord.claim, ConsentEvent.event)
        .order_by(ConsentRecord.client_id, ConsentRecord.claim, ConsentEvent.event)
    )
    return [ConsentCount(c, claim, state, int(n)) for c, claim, state, n in session.execute(query)]
