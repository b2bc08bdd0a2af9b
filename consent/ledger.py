"""The per-field consent ledger: (resident, platform, claim, purpose) → events.

Written by the OIDC consent screen (and later the wallet approval page), read by ID token and
UserInfo issuance, which release a claim only while its latest event is `given`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from audit import Pending, record, record_many
from consent.adopted import drop_decisions, held_decisions
from consent.models import ConsentEvent, ConsentRecord
from core import Prepared, utcnow

GIVEN = "given"
REFUSED = "refused"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"
DEFAULT_PURPOSE = "service-provision"
# Consent to one presentation by the built-in wallet (purpose id = this prefix + a digest of
# the platform's stated purpose). It never stands in for consent to release a claim through
# OpenID Connect: `active_claims` and `decided_claims` leave these records out unless asked.
PRESENTATION_PURPOSE_PREFIX = "presentation:"
# Consent to the OIDC `poll_pseudonym` claim for one poll (purpose id = this prefix + the
# poll id): consent for one poll never releases another poll's pseudonym, so `active_claims`
# and `decided_claims` leave these records out too unless asked for that exact purpose.
POLL_PURPOSE_PREFIX = "poll:"
_SCOPED_PREFIXES = (PRESENTATION_PURPOSE_PREFIX, POLL_PURPOSE_PREFIX)
# W3C Data Privacy Vocabulary purposes, where one fits (ISO/IEC TS 27560 asks for a purpose
# from a shared vocabulary next to the controller's own description).
DPV = "https://w3id.org/dpv#"
DPV_PURPOSES = {DEFAULT_PURPOSE: DPV + "ServiceProvision"}
DPV_PRESENTATION = DPV + "IdentityVerification"
# How a resident withdraws (Art. 7(3): as easy as giving): one click on this page of Kluis.
WITHDRAWAL_PATH = "/account/consents"


def poll_purpose(poll_id: str) -> str:
    """The ledger purpose of consent to one poll's pseudonym."""
    return POLL_PURPOSE_PREFIX + poll_id


def purpose_iri(purpose: str) -> str | None:
    """The DPV purpose a ledger purpose id stands for, or None where none fits."""
    if purpose.startswith(PRESENTATION_PURPOSE_PREFIX):
        return DPV_PRESENTATION
    return DPV_PURPOSES.get(purpose)


def record_document(
    state: ConsentState, *, controller: str, pseudonym: str | None
) -> dict[str, Any]:
    """One consent record as the resident and stewards see it (ISO/IEC TS 27560 fields): the
    recipient platform, the resident by their pairwise pseudonym there, and the events."""
    rec = state.record
    return {
        "record_id": rec.id,
        "schema_version": rec.schema_version,
        "resident_pseudonym": pseudonym,
        "controller": controller,
        "recipient": rec.client_id,
        "claim": rec.claim,
        "purpose": rec.purpose,
        "purpose_iri": purpose_iri(rec.purpose),
        "purpose_description": rec.purpose_description,
        "legal_basis": rec.legal_basis,
        "notice": rec.notice_ref or controller,
        "language": rec.language,
        "withdrawal_method": f"{controller}{WITHDRAWAL_PATH}",
        "state": state.state,
        "events": [
            {
                "event": e.event,
                "at": e.at.isoformat().replace("+00:00", "Z"),
                "actor": e.actor,
                "method": e.method,
            }
            for e in state.events
        ],
    }


def _unscoped(query: Select[Any]) -> Select[Any]:
    """`query` without the presentation and poll records (`active_claims` with no purpose)."""
    for prefix in _SCOPED_PREFIXES:
        query = query.where(ConsentRecord.purpose.not_like(prefix + "%"))
    return query


def _decisions_query(purpose: bool) -> Select[tuple[str, str]]:
    query = (
        select(ConsentRecord.claim, ConsentEvent.event)
        .join(ConsentEvent, ConsentEvent.record_id == ConsentRecord.id)
        .where(
            ConsentRecord.account_id == bindparam("account"),
            ConsentRecord.client_id == bindparam("client"),
        )
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    if purpose:
        return query.where(ConsentRecord.purpose == bindparam("purpose"))
    return _unscoped(query)


# built once: every ID token, UserInfo response and remembered-consent check runs one
_DECISIONS = {
    False: Prepared(_decisions_query(purpose=False)),
    True: Prepared(_decisions_query(purpose=True)),
}


def _latest_decisions(
    session: Session, account_id: str, client_id: str, purpose: str | None
) -> dict[str, str]:
    """claim → latest event for one resident and platform (two columns, no ORM objects);
    `purpose` None means every purpose but presentations and polls (what `consent.adopted`
    holds for this transaction, if it holds it)."""
    params = {"account": account_id, "client": client_id}
    if purpose is not None:
        params["purpose"] = purpose
    else:
        held = held_decisions(session, account_id, client_id)
        if held is not None:
            return dict(held)
    return dict(_DECISIONS[purpose is not None].all(session, params))


def active_claims(
    session: Session, account_id: str, client_id: str, purpose: str | None = None
) -> set[str]:
    """Claims the resident currently allows this platform to receive."""
    latest = _latest_decisions(session, account_id, client_id, purpose)
    return {claim for claim, event in latest.items() if event == GIVEN}


# --- the latest decisions read by another statement (held: consent/adopted.py) ---------


def latest_decisions_column(account_id: Any, client_id: Any) -> ColumnElement[str | None]:
    """A column for another statement's SELECT (one round trip less on a hot path): what
    `_latest_decisions(session, account_id, client_id, None)` returns, for the account and
    client that the two column expressions name, spelled for
    `consent.adopted.adopt_decisions`. Per claim its latest event over every purpose but
    presentations and polls, ordered as `_latest_decisions` orders them; each claim and event
    as its length, a colon and the text, one after the other (NULL for none): a name can
    hold any character and still be read back."""
    newest = func.row_number().over(
        partition_by=ConsentRecord.claim,
        order_by=(ConsentEvent.at.desc(), ConsentEvent.id.desc()),
    )
    ranked = (
        _unscoped(
            select(ConsentRecord.claim, ConsentEvent.event, newest.label("newest"))
            .join(ConsentEvent, ConsentEvent.record_id == ConsentRecord.id)
            .where(ConsentRecord.account_id == account_id, ConsentRecord.client_id == client_id)
        )
        .correlate_except(ConsentRecord, ConsentEvent)
        .subquery()
    )
    colon: ColumnElement[str] = literal_column("':'")
    spelled = (
        func.length(ranked.c.claim).cast(String)
        + colon
        + ranked.c.claim
        + func.length(ranked.c.event).cast(String)
        + colon
        + ranked.c.event
    )
    return (
        select(func.aggregate_strings(spelled, ""))
        .where(ranked.c.newest == 1)
        .scalar_subquery()
        .label("kluis_latest_decisions")
    )


def decided_claims(
    session: Session, account_id: str, client_id: str, purpose: str | None = None
) -> set[str]:
    """Claims the resident has answered for (given or refused) and not withdrawn since."""
    latest = _latest_decisions(session, account_id, client_id, purpose)
    return {claim for claim, event in latest.items() if event in (GIVEN, REFUSED)}


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
    subject_ref: str | None,
    client_id: str,
    given: Iterable[str],
    refused: Iterable[str],
    purpose: str = DEFAULT_PURPOSE,
    purpose_description: str = "",
    language: str = "nl",
    method: str = "oidc-consent-screen",
) -> None:
    """Store the resident's answer for each claim, and audit it (claim names only; under
    `subject_ref`, or naming nobody where that is None, as for a poll's presentation)."""
    now = utcnow()
    drop_decisions(session, account_id, client_id)
    given, refused = sorted(set(given)), sorted(set(refused) - set(given))
    entries = []
    for claims, event in ((given, GIVEN), (refused, REFUSED)):
        for claim in claims:
            rec = _record_for(
                session, account_id, client_id, claim, purpose, purpose_description, language
            )
            session.add(
                ConsentEvent(record_id=rec.id, event=event, at=now, actor="resident", method=method)
            )
        if claims:
            details = {"client": client_id, "claims": claims, "purpose": purpose, "method": method}
            entries.append(Pending(f"consent.{event}", "resident", subject_ref, details))
    record_many(session, entries)  # flushes the events first; one INSERT for both entries
    session.flush()


# --- withdrawal -------------------------------------------------------------------------

# (session, account_id, client_id, withdrawn claim names, when) -> None. The composition
# root passes one that tells the platform (a CAEP token-claims-change SET through the
# outbox); the ledger itself knows nothing of platforms or tokens.
WithdrawalListener = Callable[[Session, str, str, list[str], dt.datetime], None]


def withdraw_consent(
    session: Session,
    *,
    account_id: str,
    subject_ref: str,
    client_id: str,
    claims: Iterable[str] | None,
    actor: str,
    method: str,
    listener: WithdrawalListener | None = None,
) -> list[str]:
    """Withdraw consent for `claims` (None: every claim) at one platform, for every purpose.

    Each record whose latest event is `given` gets a new `withdrawn` event (never an edit), so
    the next ID token or UserInfo response lacks the claim. Audited in the same transaction;
    `listener` is told which claims were withdrawn. Returns those claim names (sorted)."""
    wanted = None if claims is None else set(claims)
    now = utcnow()
    drop_decisions(session, account_id, client_id)
    withdrawn: set[str] = set()
    for rec, event in _latest_by_record(session, account_id, client_id):
        if event != GIVEN or (wanted is not None and rec.claim not in wanted):
            continue
        session.add(
            ConsentEvent(record_id=rec.id, event=WITHDRAWN, at=now, actor=actor, method=method)
        )
        withdrawn.add(rec.claim)
    names = sorted(withdrawn)
    if not names:
        return names
    session.flush()
    record(
        session,
        "consent.withdrawn",
        actor,
        subject_ref,
        {"client": client_id, "claims": names, "method": method},
    )
    if listener is not None:
        listener(session, account_id, client_id, names, now)
    return names


def _latest_by_record(
    session: Session, account_id: str, client_id: str
) -> list[tuple[ConsentRecord, str]]:
    """(record, latest event) for every record of one resident at one platform."""
    query = (
        select(ConsentRecord, ConsentEvent.event)
        .join(ConsentEvent, ConsentEvent.record_id == ConsentRecord.id)
        .where(ConsentRecord.account_id == account_id, ConsentRecord.client_id == client_id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    latest: dict[str, tuple[ConsentRecord, str]] = {}
    for rec, event in session.execute(query):
        latest[rec.id] = (rec, event)
    return list(latest.values())


@dataclasses.dataclass(frozen=True)
class ConsentState:
    """One record with its full event history, for the resident's page and receipts."""

    record: ConsentRecord
    events: list[ConsentEvent]

    @property
    def state(self) -> str:
        return self.events[-1].event if self.events else GIVEN

    @property
    def changed_at(self) -> dt.datetime:
        return self.events[-1].at if self.events else self.record.created_at


def consents_of(
    session: Session, account_id: str, client_id: str | None = None
) -> dict[str, list[ConsentState]]:
    """client_id -> the resident's consent records there, with their events (oldest first)."""
    query = select(ConsentRecord).where(ConsentRecord.account_id == account_id)
    if client_id is not None:
        query = query.where(ConsentRecord.client_id == client_id)
    records = list(session.scalars(query.order_by(ConsentRecord.created_at, ConsentRecord.claim)))
    events: dict[str, list[ConsentEvent]] = {r.id: [] for r in records}
    if records:
        for ev in session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.record_id.in_(list(events)))
            .order_by(ConsentEvent.at, ConsentEvent.id)
        ):
            events[ev.record_id].append(ev)
    result: dict[str, list[ConsentState]] = {}
    for rec in records:
        result.setdefault(rec.client_id, []).append(ConsentState(rec, events[rec.id]))
    return result


def clients_with_data(session: Session, account_id: str) -> set[str]:
    """Platforms that may have received data about the resident: any consent ever given."""
    return set(
        session.scalars(
            select(ConsentRecord.client_id)
            .join(ConsentEvent, ConsentEvent.record_id == ConsentRecord.id)
            .where(ConsentRecord.account_id == account_id, ConsentEvent.event == GIVEN)
            .distinct()
        )
    )
