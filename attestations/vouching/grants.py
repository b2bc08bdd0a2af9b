"""Peer attestations: offering one when the threshold is met, finding the credentials it became,
and letting it lapse (which revokes them on their status list).

Kluis keeps no claim values of what it issued (README, "Attestations"), so an issued
`real_person` credential does not say whether it came from peers, the desk or the registry.
The grant keeps the id of its offer, and the log of issuance says which credentials each offer
became: the credential endpoint writes one `attestation.issued` entry per credential, under the
resident's reference, naming the offer and the credential (`attestations.credential`). That
entry is permanent, whereas the offer row is purged a day after it died, so it is the link
used here (`credentials_of_grant`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from attestations.issuance import CreatedOffer, create_offer
from attestations.models import CredentialOffer, IssuedCredential
from attestations.statuslist import revoke_credential
from attestations.vouching.config import VouchingConfig
from attestations.vouching.errors import AlreadyVerified, ThresholdNotMet
from attestations.vouching.graph import REAL_PERSON, chunks, load_graph
from attestations.vouching.models import PeerGrant
from attestations.vouching.rules import TYPE_VALIDITY, independent_count, needs_peer_attestation
from audit import AuditEntry, record
from core import lock_named, rowcount, utcnow
from keys import SubjectKeys

# serialises what grants and what unwinds: a grant made while a cascade runs would otherwise
# rest on an attestation the cascade is revoking, and be missed by it
GRAPH_LOCK = "kluis/vouching/graph"
PEER_CLAIMS = {"verification": "peer"}
# lapse reason -> the revocation reason on the status list
REVOCATION_REASONS = {
    "below_threshold": "vouch_withdrawn",
    "fake": "fake",
    "erasure": "erasure",
    "expired": "peer_expired",
    "superseded": "superseded",
}


@dataclass(frozen=True)
class PeerOffer:
    grant_id: str
    offer: CreatedOffer
    confirmations: int


def issue_peer_attestation(
    session: Session,
    subject_keys: SubjectKeys,
    config: VouchingConfig,
    *,
    account_id: str,
    actor: str = "resident",
    now: dt.datetime | None = None,
) -> PeerOffer:
    """Offer the resident a `real_person` attestation with `verification: peer`, if they meet
    the threshold now and hold no `real_person` attestation valid beyond the renewal window.
    An earlier peer offer still waiting to be collected is withdrawn. The caller commits."""
    moment = now or utcnow()
    rules = config.rules
    lock_named(session, GRAPH_LOCK)
    graph = load_graph(session, {account_id}, moment)
    count = independent_count(rules, graph, account_id, moment)
    if count < rules.threshold:
        raise ThresholdNotMet()
    if not needs_peer_attestation(rules, graph, account_id, moment):
        raise AlreadyVerified()
    for waiting in _waiting_grants(session, account_id, moment):
        lapse_grant(session, subject_keys, waiting, "superseded", actor, moment)
    created = create_offer(
        session,
        subject_keys,
        config.attestations,
        account_id=account_id,
        type_id=REAL_PERSON,
        claims=PEER_CLAIMS,
        actor=actor,
        now=moment,
    )
    # the latest moment a credential from this offer can be valid: collected before the offer
    # and its access token expire, then valid for the type's validity (a credential carries
    # the type's `exp`; a shorter peer validity is enforced by `cascade.settle` revoking it)
    collected_by = config.attestations.offer_ttl + config.attestations.access_token_ttl
    grant = PeerGrant(
        id=uuid.uuid4().hex,
        account_id=account_id,
        offer_id=created.offer_id,
        granted_at=moment,
        expires_at=moment + TYPE_VALIDITY + collected_by,
        confirmations=count,
    )
    session.add(grant)
    session.flush()
    record(
        session,
        "vouching.peer_granted",
        actor,
        subject_ref=subject_keys.reference(session, account_id),
        details={"grant": grant.id, "offer_id": created.offer_id, "confirmations": count},
    )
    return PeerOffer(grant.id, created, count)


def _waiting_grants(session: Session, account_id: str, now: dt.datetime) -> list[PeerGrant]:
    """Live grants whose offer has not been collected yet."""
    return list(
        session.scalars(
            select(PeerGrant)
            .join(CredentialOffer, CredentialOffer.id == PeerGrant.offer_id)
            .where(
                PeerGrant.account_id == account_id,
                PeerGrant.lapsed_at.is_(None),
                CredentialOffer.used_at.is_(None),
                CredentialOffer.expires_at > now,
            )
        )
    )


def live_grants(session: Session, accounts: set[str], now: dt.datetime) -> list[PeerGrant]:
    """Grants not lapsed whose credentials may still be valid, by account."""
    found: list[PeerGrant] = []
    for part in chunks(accounts):
        found.extend(
            session.scalars(
                select(PeerGrant).where(
                    PeerGrant.account_id.in_(part),
                    PeerGrant.lapsed_at.is_(None),
                    PeerGrant.expires_at > now,
                )
            )
        )
    return sorted(found, key=lambda g: (g.account_id, g.granted_at, g.id))


def sound_grants(session: Session, accounts: set[str]) -> list[PeerGrant]:
    """Grants whose credentials still count as their holders' attestations for what they
    vouched while those were valid: not lapsed, or ended by expiry only, however long ago."""
    found: list[PeerGrant] = []
    for part in chunks(accounts):
        found.extend(
            session.scalars(
                select(PeerGrant).where(
                    PeerGrant.account_id.in_(part),
                    or_(PeerGrant.lapsed_at.is_(None), PeerGrant.lapse_reason == "expired"),
                )
            )
        )
    return sorted(found, key=lambda g: (g.account_id, g.granted_at, g.id))


def credentials_of_grant(
    session: Session, subject_keys: SubjectKeys, grant: PeerGrant
) -> list[IssuedCredential]:
    """The credentials issued from the grant's offer (see the module docstring)."""
    entries = session.scalars(
        select(AuditEntry.entry).where(
            AuditEntry.event == "attestation.issued",
            AuditEntry.subject_ref == subject_keys.reference(session, grant.account_id),
        )
    )
    ids = []
    for entry in entries:
        details = json.loads(entry).get("details") or {}
        if details.get("offer_id") == grant.offer_id and details.get("type") == REAL_PERSON:
            ids.append(details["credential_id"])
    if not ids:
        return []
    return list(
        session.scalars(
            select(IssuedCredential)
            .where(IssuedCredential.id.in_(ids), IssuedCredential.account_id == grant.account_id)
            .order_by(IssuedCredential.id)
        )
    )


@dataclass(frozen=True)
class Ended:
    """What ending a grant changed: `revoked`, its credentials that were valid until now
    (their holder may lose the claim); `discredited`, every credential of it that stops
    counting as the voucher's attestation (`graph.standing`), expired ones included."""

    revoked: tuple[str, ...]
    discredited: tuple[str, ...]


def lapse_grant(
    session: Session,
    subject_keys: SubjectKeys,
    grant: PeerGrant,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> Ended | None:
    """End the grant: its offer is withdrawn (also one being collected right now: deleting it
    waits for that and takes its access tokens along) and the credentials it became are
    revoked. None if it had ended already.

    A grant that is found wanting (any reason but `expired`) takes back its credentials
    entirely, the expired ones too: while they were valid their holder vouched with them, and
    those confirmations must stop counting. A grant that merely ended by expiry (`expired`)
    may be found wanting later all the same: it is ended again, for that reason."""
    expired = REVOCATION_REASONS["expired"]
    still: ColumnElement[bool] = PeerGrant.lapsed_at.is_(None)
    if reason != "expired":
        still = or_(still, PeerGrant.lapse_reason == "expired")
    ended = session.execute(
        update(PeerGrant)
        .where(PeerGrant.id == grant.id, still)
        .values(lapsed_at=func.coalesce(PeerGrant.lapsed_at, now), lapse_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if rowcount(ended) != 1:
        return None
    session.execute(
        delete(CredentialOffer)
        .where(CredentialOffer.id == grant.offer_id)
        .execution_options(synchronize_session=False)
    )
    revoked, discredited = [], []
    for row in credentials_of_grant(session, subject_keys, grant):
        valid = row.revoked_at is None and row.expires_at > now
        if valid or (row.revoked_at is None and reason != "expired"):
            revoke_credential(session, row.id, REVOCATION_REASONS[reason], actor, now)
        elif row.revocation_reason == expired and reason != "expired":
            row.revocation_reason = REVOCATION_REASONS[reason]  # it never counted after all
        else:
            continue
        discredited.append(row.id)
        if valid:
            revoked.append(row.id)
    session.flush()
    record(
        session,
        "vouching.peer_lapsed",
        actor,
        subject_ref=subject_keys.reference(session, grant.account_id),
        details={"grant": grant.id, "reason": reason, "credentials": len(revoked)},
    )
    return Ended(tuple(revoked), tuple(discredited))


def holds_real_person(session: Session, account_id: str, now: dt.datetime) -> bool:
    """Whether any `real_person` attestation of the account is still valid."""
    found = session.scalar(
        select(IssuedCredential.id)
        .where(
            IssuedCredential.account_id == account_id,
            IssuedCredential.type == REAL_PERSON,
            IssuedCredential.revoked_at.is_(None),
            IssuedCredential.expires_at > now,
        )
        .limit(1)
    )
    return found is not None
