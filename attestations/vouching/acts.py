"""What residents do: a voucher finds a request (by the QR code or the typed short code), sees
whom it is for, and confirms or declines; the vouchee follows their progress.

Every act that counts takes `grants.GRAPH_LOCK` (the quota, the "already confirmed" rule and the
threshold are read and written under it, so concurrent confirmations by one voucher across
processes cannot exceed the quota) and is an audit entry under opaque references only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.vouching.config import VouchingConfig
from attestations.vouching.errors import ConfirmationRefused, RequestGone
from attestations.vouching.grants import GRAPH_LOCK
from attestations.vouching.graph import load_graph
from attestations.vouching.models import Confirmation, ConfirmationRequest, PeerGrant
from attestations.vouching.requests import (
    check_code,
    find_request,
    open_or_gone,
    take_request,
)
from attestations.vouching.rules import (
    independent_count,
    needs_peer_attestation,
    quota_used,
    refusal,
)
from audit import record
from core import lock_named, utcnow
from identity import get_account, own_profile
from keys import SubjectKeys


@dataclass(frozen=True)
class Preview:
    """What the voucher's phone shows before they answer."""

    request_id: str
    vouchee_id: str  # never shown: what a report of the profile names (`report_fake`)
    vouchee_name: str  # the display name, else the user name
    check_code: str
    refusal: str | None  # a `rules.Refusal` code when the voucher may not confirm now
    quota_left: int


@dataclass(frozen=True)
class Progress:
    """The vouchee's standing: independent confirmations counted now (up to the threshold)."""

    confirmations: int
    threshold: int
    verified: bool  # holds a `real_person` attestation valid beyond the renewal window
    can_claim: bool  # meets the threshold and a peer attestation would add something


def _voucher_state(
    session: Session, config: VouchingConfig, voucher_id: str, vouchee_id: str, now: dt.datetime
) -> tuple[str | None, int]:
    rules = config.rules
    graph = load_graph(session, {vouchee_id}, now, also={voucher_id})
    given = list(
        session.scalars(
            select(Confirmation.created_at).where(
                Confirmation.voucher_id == voucher_id,
                Confirmation.created_at > now - rules.quota_period,
            )
        )
    )
    why = refusal(rules, graph, voucher=voucher_id, vouchee=vouchee_id, given=given, now=now)
    offences = len(graph.suspensions.get(voucher_id, ()))
    left = max(0, rules.quota_for(offences) - quota_used(rules, given, now))
    return (why.value if why is not None else None), left


def preview(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    voucher_id: str,
    token: str | None = None,
    short_code: str | None = None,
    ip: str = "",
    now: dt.datetime | None = None,
) -> Preview:
    """The request a scanned token or a typed short code names, as the voucher sees it.
    Typed codes are guessable, so each wrong one counts against the voucher and their address
    (`LoginThrottled` when over the limit); the caller commits what was counted."""
    moment = now or utcnow()
    if token is not None:
        row = find_request(session, config, token=token, now=moment)
    else:
        reservation = config.limiter.reserve(session, voucher_id, ip)  # or LoginThrottled
        session.commit()
        row = find_request(session, config, short_code=short_code, now=moment)  # or RequestGone
        config.limiter.release(session, reservation)
    vouchee = get_account(session, row.vouchee_id)
    if vouchee is None:
        raise RequestGone()
    profile = own_profile(session, subject_keys, vouchee)
    why, left = _voucher_state(session, config, voucher_id, row.vouchee_id, moment)
    return Preview(
        row.id,
        row.vouchee_id,
        profile.name or profile.handle,
        check_code(config, row.id),
        why,
        left,
    )


def confirm(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    voucher_id: str,
    request_id: str,
    now: dt.datetime | None = None,
) -> str:
    """The voucher confirms, honestly, that they met the vouchee in person and know them by
    that name. Returns the confirmation's id; `ConfirmationRefused` (audited) when the rules
    forbid it, `RequestGone` when the request was answered or expired meanwhile. The caller
    commits (also after a refusal, to keep its audit entry)."""
    moment = now or utcnow()
    lock_named(session, GRAPH_LOCK)
    row = open_or_gone(session.get(ConfirmationRequest, request_id), moment)
    vouchee_ref = subject_keys.reference(session, row.vouchee_id)
    why, _ = _voucher_state(session, config, voucher_id, row.vouchee_id, moment)
    if why is not None:
        record(
            session,
            "vouching.refused",
            "resident",
            subject_ref=vouchee_ref,
            details={
                "request": row.id,
                "voucher": subject_keys.reference(session, voucher_id),
                "reason": why,
            },
        )
        raise ConfirmationRefused(why)
    take_request(session, row.id, moment)
    confirmation = Confirmation(
        id=uuid.uuid4().hex,
        voucher_id=voucher_id,
        vouchee_id=row.vouchee_id,
        request_id=row.id,
        created_at=moment,
    )
    session.add(confirmation)
    session.flush()
    record(
        session,
        "vouching.confirmed",
        "resident",
        subject_ref=vouchee_ref,
        details={
            "confirmation": confirmation.id,
            "request": row.id,
            "voucher": subject_keys.reference(session, voucher_id),
        },
    )
    return confirmation.id


def decline(
    session: Session,
    subject_keys: SubjectKeys,
    *,
    voucher_id: str,
    request_id: str,
    now: dt.datetime | None = None,
) -> None:
    """The voucher does not confirm: the request is answered (the vouchee sees it was declined,
    not by whom beyond what they saw in person). The caller commits."""
    moment = now or utcnow()
    row = open_or_gone(session.get(ConfirmationRequest, request_id), moment)
    take_request(session, row.id, moment)
    record(
        session,
        "vouching.declined",
        "resident",
        subject_ref=subject_keys.reference(session, row.vouchee_id),
        details={"request": row.id, "voucher": subject_keys.reference(session, voucher_id)},
    )


def request_state(session: Session, request_id: str, vouchee_id: str) -> str:
    """`open`, `confirmed`, `declined` or `expired`: what the vouchee's page shows while it
    waits. Unknown requests and those of another account are `expired`."""
    row = session.get(ConfirmationRequest, request_id)
    if row is None or row.vouchee_id != vouchee_id:
        return "expired"
    if row.closed_at is None:
        return "open" if row.expires_at > utcnow() else "expired"
    confirmed = session.scalar(
        select(Confirmation.id).where(Confirmation.request_id == request_id).limit(1)
    )
    return "confirmed" if confirmed is not None else "declined"


def progress(
    session: Session, config: VouchingConfig, account_id: str, now: dt.datetime | None = None
) -> Progress:
    moment = now or utcnow()
    rules = config.rules
    graph = load_graph(session, {account_id}, moment)
    count = independent_count(rules, graph, account_id, moment)
    needs = needs_peer_attestation(rules, graph, account_id, moment)
    return Progress(count, rules.threshold, not needs, needs and count >= rules.threshold)


@dataclass(frozen=True)
class Lapsed:
    """The resident's latest peer attestation ended before its time: when, and why
    (`below_threshold`, `expired`, `fake`, `erasure`, `superseded`)."""

    at: dt.datetime
    reason: str


def last_lapse(session: Session, account_id: str) -> Lapsed | None:
    """What the resident's page tells them when they lost their peer `real_person`
    attestation: the latest grant, if it lapsed (not superseded by a newer grant)."""
    latest = session.execute(
        select(PeerGrant.lapsed_at, PeerGrant.lapse_reason)
        .where(PeerGrant.account_id == account_id)
        .order_by(PeerGrant.granted_at.desc(), PeerGrant.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest[0] is None or latest[1] in (None, "superseded"):
        return None
    return Lapsed(latest[0], latest[1])
