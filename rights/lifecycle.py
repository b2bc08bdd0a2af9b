"""The lifecycle of an erasure request (GDPR Art. 12(3), 17, 19), shared by the erasure of a
whole account (`rights.erasure`) and of one field (`rights.field_erasure`):

1. `receive_request`: the request is checked and stored as `received`, due in 30 days, under
   the resident's opaque audit reference (computed now: it cannot be once the key is gone);
2. the executor sets `executing`, does its work and links a delivery per platform to tell
   (`link_delivery`; a `manual` link where Kluis cannot tell the platform itself);
3. `conclude`: `propagating`, the `erasure.executed` entry, the tombstone (journaled just
   before the caller commits);
4. `refresh_erasure_states` (the background worker) moves the request to `completed` once
   every platform acknowledged, or `overdue` past its due date. A platform Kluis cannot tell
   keeps the request open until an operator records how it was told
   (`record_platform_handled`, `kluis erasure handled`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import Delivery
from audit import Pending, record, record_many
from core import personal_data_in, utcnow
from identity import Account, Provider, get_client
from rights.errors import (
    ErasureError,
    NoteRequired,
    NothingPending,
    NotOpen,
    ReasonLooksPersonal,
    UnknownAccount,
)
from rights.models import ErasureDelivery, ErasureRequest
from rights.tombstones import Tombstone, TombstoneJournal

ERASURE_PERIOD = dt.timedelta(days=30)
MAX_REASON = 500
RECEIVED, EXECUTING, PROPAGATING = "received", "executing", "propagating"
COMPLETED, OVERDUE = "completed", "overdue"
OPEN = (PROPAGATING, OVERDUE)
# the kind of a link to a platform that an operator must tell (no delivery behind it)
MANUAL = "manual"
MANUAL_PREFIX = "manual-"
REQUESTERS = ("resident", "operator")


def check_reason(reason: str | None) -> str:
    """Free text about why, never about whom: refuse anything that looks like personal data."""
    text = " ".join((reason or "").split())
    if len(text) > MAX_REASON:
        raise ErasureError(f"the reason is longer than {MAX_REASON} characters")
    kind = personal_data_in(text)
    if kind is not None:
        raise ReasonLooksPersonal(kind)
    return text


def link_delivery(
    session: Session, request: ErasureRequest, delivery: Delivery | None, *, client_id: str
) -> int:
    """Record that `delivery` tells platform `client_id` about `request` (1), or, when nothing
    could be queued (no `events_uri`), that an operator must tell it (a `manual` link, 0)."""
    if delivery is None:
        session.add(
            ErasureDelivery(
                delivery_id=MANUAL_PREFIX + uuid.uuid4().hex,
                request_id=request.id,
                client_id=client_id,
                kind=MANUAL,
            )
        )
        return 0
    session.add(
        ErasureDelivery(
            delivery_id=delivery.id,
            request_id=request.id,
            client_id=delivery.client_id,
            kind=delivery.kind,
        )
    )
    return 1


def manual_platforms(session: Session, request_id: str) -> list[str]:
    """The platforms of a request Kluis could not tell automatically (sorted client ids)."""
    return sorted(
        session.scalars(
            select(ErasureDelivery.client_id).where(
                ErasureDelivery.request_id == request_id, ErasureDelivery.kind == MANUAL
            )
        )
    )


def receive_request(
    session: Session,
    provider: Provider,
    *,
    account_id: str,
    requested_by: str,
    actor: str,
    reason: str | None,
    field: str | None = None,
    now: dt.datetime | None = None,
    replay: Tombstone | None = None,
) -> tuple[Account, ErasureRequest, str]:
    """Step 1 of every erasure (whole account or one field): check the request, lock the
    account, store the request as `received` with its due date (Art. 12(3)) and audit it.
    Returns the account, the request and the resident's opaque reference.

    `replay` re-applies an erasure from the tombstone journal after a restore: the request
    keeps its id, its reference and its date (so its due date)."""
    if requested_by not in REQUESTERS:
        raise ErasureError(f"requested_by must be one of {REQUESTERS}")
    reason_text = check_reason(reason)
    # The row lock makes a concurrent second request for the same resident wait, then find
    # no account (PostgreSQL; SQLite serialises writers anyway).
    account = session.get(Account, account_id, with_for_update=True)
    if account is None:
        raise UnknownAccount()
    now = replay.received_at if replay is not None else now or utcnow()
    ref = (
        replay.subject_ref
        if replay is not None
        else provider.subject_keys.reference(session, account_id)
    )
    request = ErasureRequest(
        id=replay.request_id if replay is not None else uuid.uuid4().hex,
        subject_ref=ref,
        requested_by=requested_by,
        actor=actor,
        reason=reason_text,
        field=field,
        status=RECEIVED,
        received_at=now,
        due_at=now + ERASURE_PERIOD,
        updated_at=now,
    )
    session.add(request)
    session.flush()
    details: dict[str, str] = {"request": request.id, "by": requested_by}
    if field is not None:
        details["field"] = field
    record(session, "erasure.received", actor, ref, details)
    return account, request, ref


def conclude(
    session: Session,
    request: ErasureRequest,
    account_id: str,
    details: Mapping[str, Any],
    *,
    platforms: Mapping[str, tuple[str, ...]],
    tombstones: TombstoneJournal | None,
) -> ErasureRequest:
    """Step 3 of every erasure, once the executor has done its work and linked its
    deliveries: `propagating`, the `erasure.executed` entry (with `details` and the platforms
    that must be told by hand), the tombstone staged for the caller's commit, and a first
    refresh (a request with nothing to deliver completes at once)."""
    request.status = PROPAGATING
    request.executed_at = request.updated_at = utcnow()
    session.flush()
    entry = {"request": request.id, **details, "manual": manual_platforms(session, request.id)}
    record(session, "erasure.executed", request.actor, request.subject_ref, entry)
    if tombstones is not None:
        tombstones.stage(session, tombstone_of(request, account_id, platforms))
    refresh_erasure_states(session, request.received_at, request_id=request.id)
    return request


def tombstone_of(
    request: ErasureRequest, account_id: str, platforms: Mapping[str, tuple[str, ...]]
) -> Tombstone:
    """What the journal keeps of an executed request: its ids, never its reason."""
    return Tombstone(
        request_id=request.id,
        account_id=account_id,
        subject_ref=request.subject_ref,
        field=request.field,
        requested_by=request.requested_by,
        actor=request.actor,
        received_at=request.received_at,
        platforms=platforms,
    )


def _refresh_one(session: Session, request: ErasureRequest, now: dt.datetime) -> Pending | None:
    """Move one request on; returns the audit entry to append when it changed (else None)."""
    links = list(
        session.scalars(select(ErasureDelivery).where(ErasureDelivery.request_id == request.id))
    )
    for link in links:
        if link.acknowledged_at is None:
            delivery = session.get(Delivery, link.delivery_id)
            if delivery is not None and delivery.delivered_at is not None:
                link.acknowledged_at = delivery.delivered_at
    pending = sorted({link.client_id for link in links if link.acknowledged_at is None})
    if not pending:
        request.status = COMPLETED
        request.completed_at = request.updated_at = now
        return Pending("erasure.completed", "system", request.subject_ref, {"request": request.id})
    if now >= request.due_at and request.status != OVERDUE:
        request.status = OVERDUE
        request.updated_at = now
        details = {"request": request.id, "unacknowledged": pending}
        return Pending("erasure.overdue", "system", request.subject_ref, details)
    return None


def refresh_erasure_states(
    session: Session, now: dt.datetime | None = None, *, request_id: str | None = None
) -> list[ErasureRequest]:
    """Move propagating (and overdue) requests on: `completed` when every delivery was
    acknowledged, `overdue` once past the due date. Returns the requests that changed."""
    now = now or utcnow()
    # Several app processes run this: each request is handled by whoever locks it first.
    query = (
        select(ErasureRequest)
        .where(ErasureRequest.status.in_(OPEN))
        .with_for_update(skip_locked=True)
    )
    if request_id is not None:
        query = query.where(ErasureRequest.id == request_id)
    changed, entries = [], []
    for request in session.scalars(query):
        entry = _refresh_one(session, request, now)
        if entry is not None:
            changed.append(request)
            entries.append(entry)
    # One append for every request that moved on, in this same transaction.
    record_many(session, entries)
    session.flush()
    return changed


def record_platform_handled(
    session: Session,
    *,
    request_id: str,
    client_id: str,
    actor: str,
    note: str,
    now: dt.datetime | None = None,
) -> ErasureRequest:
    """An operator records that a platform was told of an erasure another way than by Kluis's
    own deliveries (it has no `events_uri`, or they keep failing). Every open link of that
    platform counts as acknowledged; the request completes when nothing else is pending. The
    caller commits."""
    text = check_reason(note)
    if not text:
        raise NoteRequired()
    request = session.get(ErasureRequest, request_id, with_for_update=True)
    if request is None or request.status not in OPEN:
        raise NotOpen()
    links = list(
        session.scalars(
            select(ErasureDelivery).where(
                ErasureDelivery.request_id == request_id,
                ErasureDelivery.client_id == client_id,
                ErasureDelivery.acknowledged_at.is_(None),
            )
        )
    )
    if not links:
        raise NothingPending()
    now = now or utcnow()
    for link in links:
        link.acknowledged_at, link.handled_by, link.note = now, actor, text
    session.flush()
    details = {"request": request.id, "client": client_id, "kinds": sorted(li.kind for li in links)}
    record(session, "erasure.platform_handled", actor, request.subject_ref, details)
    refresh_erasure_states(session, now, request_id=request.id)
    return request


@dataclasses.dataclass(frozen=True)
class PlatformState:
    client_id: str
    name: str  # the platform's name, as residents and stewards know it
    kind: str
    delivery_id: str
    attempts: int
    last_status: int | None
    last_error: str | None
    acknowledged_at: dt.datetime | None
    handled_by: str | None = None
    note: str | None = None

    @property
    def manual(self) -> bool:
        return self.kind == MANUAL


def erasure_requests(session: Session) -> list[ErasureRequest]:
    return list(
        session.scalars(
            select(ErasureRequest).order_by(ErasureRequest.received_at, ErasureRequest.id)
        )
    )


def erasure_deliveries(session: Session, request_id: str) -> list[PlatformState]:
    """Per-platform delivery state of one request."""
    states = []
    links = session.scalars(
        select(ErasureDelivery)
        .where(ErasureDelivery.request_id == request_id)
        .order_by(ErasureDelivery.client_id, ErasureDelivery.kind)
    )
    for link in links:
        delivery = session.get(Delivery, link.delivery_id)
        client = get_client(session, link.client_id)
        states.append(
            PlatformState(
                client_id=link.client_id,
                name=client.name if client is not None else link.client_id,
                kind=link.kind,
                delivery_id=link.delivery_id,
                attempts=delivery.attempts if delivery else 0,
                last_status=delivery.last_status if delivery else None,
                last_error=delivery.last_error if delivery else None,
                acknowledged_at=link.acknowledged_at,
                handled_by=link.handled_by,
                note=link.note,
            )
        )
    return states
