"""The per-field consent ledger: (resident, platform, claim, purpose) → events.

Written by the OIDC consent screen (and later the wallet approval page), read by ID token and
UserInfo issuance, which release a claim only while its latest event is `given`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.audit import record
from consent.models import ConsentEvent, ConsentRecord
from core.db import utcnow

GIVEN = "given"
REFUSED = "refused"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"
DEFAULT_PURPOSE = "service-provision"


def _latest_events(
    session: Session, account_id: str, client_id: str, purpose: str | None = None
) -> dict[str, tuple[ConsentRecord, str]]:
    """claim → (record, latest event) for one resident and platform."""
    query = (
        select(ConsentRecord, ConsentEvent.event)
        .join(ConsentEvent, ConsentEvent.record_id == ConsentRecord.id)
        .where(ConsentRecord.account_id == account_id, ConsentRecord.client_id == client_id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    if purpose is not None:
        query = query.where(ConsentRecord.purpose == purpose)
    latest: dict[str, tuple[ConsentRecord, str]] = {}
    for rec, event in session.execute(query):
        latest[rec.claim] = (rec, event)
    return latest


def active_claims(
    session: Session, account_id: str, client_id: str, purpose: str | None = None
) -> set[str]:
    """Claims the resident currently allows this platform to receive."""
    return {
        claim
        for claim, (_, event) in _latest_events(session, account_id, client_id, purpose).items()
        if event == GIVEN
    }


def decided_claims(session: Session, account_id: str, client_id: str) -> set[str]:
    """Claims the resident has answered for (given or refused) and not withdrawn since."""
    return {
        claim
        for claim, (_, event) in _latest_events(session, account_id, client_id).items()
        if event in (GIVEN, REFUSED)
    }


def _record_for(
    session: Session,
    account_id: str,
    client_id: str,
    claim: str,
    purpose: str,
    purpose_description: str,
    language: str,
) -> ConsentRecord:
    existing = session.scalar(
        select(ConsentRecord).where(
            ConsentRecord.account_id == account_id,
            ConsentRecord.client_id == client_id,
            ConsentRecord.claim == claim,
            ConsentRecord.purpose == purpose,
        )
    )
    if existing is not None:
        return existing
    rec = ConsentRecord(
        id=uuid.uuid4().hex,
        account_id=account_id,
        client_id=client_id,
        claim=claim,
        purpose=purpose,
        purpose_description=purpose_description,
        language=language,
        created_at=utcnow(),
    )
    session.add(rec)
    session.flush()
    return rec


def record_decision(
    session: Session,
    *,
    account_id: str,
    subject_ref: str,
    client_id: str,
    given: Iterable[str],
    refused: Iterable[str],
    purpose: str = DEFAULT_PURPOSE,
    purpose_description: str = "",
    language: str = "nl",
    method: str = "oidc-consent-screen",
) -> None:
    """Store the resident's answer for each claim, and audit it (claim names only)."""
    now = utcnow()
    given, refused = sorted(set(given)), sorted(set(refused) - set(given))
    for claims, event in ((given, GIVEN), (refused, REFUSED)):
        for claim in claims:
            rec = _record_for(
                session, account_id, client_id, claim, purpose, purpose_description, language
            )
            session.add(
                ConsentEvent(record_id=rec.id, event=event, at=now, actor="resident", method=method)
            )
        if claims:
            record(
                session,
                f"consent.{event}",
                "resident",
                subject_ref,
                {"client": client_id, "claims": claims, "purpose": purpose, "method": method},
            )
    session.flush()
