"""Peer attestations: offering one when the threshold is met, and finding the grants whose
credentials still count. Ending them (which revokes what they became) is in `lapses`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from attestations.issuance import CreatedOffer, create_offer
from attestations.models import CredentialOffer
from attestations.vouching.config import VouchingConfig
from attestations.vouching.errors import AlreadyVerified, ThresholdNotMet
from attestations.vouching.graph import REAL_PERSON, among, load_graph
from attestations.vouching.lapses import EXPIRED, lapse_grant
from attestations.vouching.models import PeerGrant
from attestations.vouching.rules import TYPE_VALIDITY, independent_count, needs_peer_attestation
from audit import record
from core import lock_named, utcnow
from keys import SubjectKeys

# serialises what grants and what unwinds: a grant made while a cascade runs would otherwise
# rest on an attestation the cascade is revoking, and be missed by it
GRAPH_LOCK = "kluis/vouching/graph"
PEER_CLAIMS = {"verification": "peer"}


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
    language: str = "nl",
) -> PeerOffer:
    """Offer the resident a `real_person` attestation with `verification: peer`, if they meet
    the threshold now and hold no `real_person` attestation valid beyond the renewal window.
    An earlier peer offer still waiting to be collected is withdrawn. `language`: the page's,
    which the e-mail speaks if the attestation lapses. The caller commits."""
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
        language=language,
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


def sound_grants(session: Session, accounts: set[str]) -> list[PeerGrant]:
    """Grants whose credentials still count as their holders' attestations for what they
    vouched while those were valid: not lapsed, or ended by expiry only, however long ago."""
    found: list[PeerGrant] = []
    for part in among(session, PeerGrant.account_id, accounts):
        found.extend(
            session.scalars(
                select(PeerGrant).where(
                    part,
                    or_(PeerGrant.lapsed_at.is_(None), PeerGrant.lapse_reason == EXPIRED),
                )
            )
        )
    return sorted(found, key=lambda g: (g.account_id, g.granted_at, g.id))
