"""Ending peer grants, which revokes the credentials they became on their status list.

Kluis keeps no claim values of what it issued (docs/operators.md, "Issuing attestations to a
wallet"), so an issued `real_person` credential does not say whether it came from peers, the
desk or the registry.
A grant keeps the id of its offer, and the log of issuance says which credentials each offer
became: the credential endpoint writes one `attestation.issued` entry per credential, under the
resident's reference, naming the offer and the credential (`attestations.credential`). That
entry is permanent, whereas the offer row is purged a day after it died, so it is the link used
here (`issued_from`).

A cascade ends thousands of grants in one round, so everything here works on many grants at
once: one statement per thousand grants for each step (end them, withdraw their offers, find
their credentials, revoke those, audit), not one per grant.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from attestations.models import CredentialOffer, IssuedCredential
from attestations.statuslist import revoke_credentials
from attestations.vouching.graph import REAL_PERSON, among
from attestations.vouching.models import PeerGrant
from audit import AuditEntry, Pending, record_many
from keys import SubjectKeys

# lapse reason -> the revocation reason on the status list
REVOCATION_REASONS = {
    "below_threshold": "vouch_withdrawn",
    "fake": "fake",
    "erasure": "erasure",
    "expired": "peer_expired",
    "superseded": "superseded",
}
EXPIRED = "expired"


class Issued(NamedTuple):
    id: str
    revoked_at: dt.datetime | None
    expires_at: dt.datetime
    revocation_reason: str | None


@dataclass(frozen=True)
class Ended:
    """What ending a grant changed: `revoked`, its credentials that were valid until now
    (their holder may lose the claim); `discredited`, every credential of it that stops
    counting as the voucher's attestation (`graph.standing`), expired ones included."""

    revoked: tuple[str, ...]
    discredited: tuple[str, ...]


def issued_from(
    session: Session, references: dict[str, str], grants: Sequence[PeerGrant]
) -> dict[str, list[Issued]]:
    """The credentials issued from the grants' offers, by grant id (see the module
    docstring). `references`: the holders' audit references, by account id."""
    by_offer = {g.offer_id: g for g in grants}
    grant_of: dict[str, PeerGrant] = {}
    refs = sorted({references[g.account_id] for g in grants if g.account_id in references})
    for part in among(session, AuditEntry.subject_ref, refs):
        entries = session.scalars(
            select(AuditEntry.entry).where(AuditEntry.event == "attestation.issued", part)
        )
        for entry in entries:
            details = json.loads(entry).get("details") or {}
            grant = by_offer.get(str(details.get("offer_id")))
            if grant is not None and details.get("type") == REAL_PERSON:
                grant_of[details["credential_id"]] = grant
    found: dict[str, list[Issued]] = {}
    for part in among(session, IssuedCredential.id, grant_of):
        rows = session.execute(
            select(
                IssuedCredential.id,
                IssuedCredential.account_id,
                IssuedCredential.revoked_at,
                IssuedCredential.expires_at,
                IssuedCredential.revocation_reason,
            ).where(part)
        )
        for credential, account, revoked, expires, reason in rows:
            grant = grant_of[credential]
            if account == grant.account_id:
                found.setdefault(grant.id, []).append(Issued(credential, revoked, expires, reason))
    return {grant: sorted(issued) for grant, issued in found.items()}


def _end(
    session: Session, grants: Sequence[PeerGrant], reason: str, now: dt.datetime
) -> list[PeerGrant]:
    """Mark the grants ended; those that were not ended already (for this reason)."""
    still: ColumnElement[bool] = PeerGrant.lapsed_at.is_(None)
    if reason != EXPIRED:  # a grant ended by expiry can still be found wanting
        still = or_(still, PeerGrant.lapse_reason == EXPIRED)
    ended: set[str] = set()
    for part in among(session, PeerGrant.id, (g.id for g in grants)):
        ended.update(
            session.scalars(
                update(PeerGrant)
                .where(part, still)
                .values(lapsed_at=func.coalesce(PeerGrant.lapsed_at, now), lapse_reason=reason)
                .returning(PeerGrant.id)
                .execution_options(synchronize_session="fetch")
            )
        )
    return [g for g in grants if g.id in ended]


def lapse_grants(
    session: Session,
    subject_keys: SubjectKeys,
    grants: Sequence[PeerGrant],
    reason: str,
    actor: str,
    now: dt.datetime,
) -> dict[str, Ended]:
    """End the grants: their offers are withdrawn (also one being collected right now:
    deleting it waits for that and takes its access tokens along) and the credentials they
    became are revoked. Returns what ending each changed, by grant id, for those that had not
    ended already.

    A grant found wanting (any reason but `expired`) takes back its credentials entirely, the
    expired ones too: while they were valid their holder vouched with them, and those
    confirmations must stop counting. A grant that merely ended by expiry may be found wanting
    later all the same: it is ended again, for that reason."""
    ended = _end(session, grants, reason, now)
    if not ended:
        return {}
    for part in among(session, CredentialOffer.id, (g.offer_id for g in ended)):
        session.execute(
            delete(CredentialOffer).where(part).execution_options(synchronize_session="fetch")
        )
    references = subject_keys.references(session, {g.account_id for g in ended})
    issued = issued_from(session, references, ended)
    revoke: list[str] = []
    discredit: list[str] = []  # revoked by expiry before: now they never counted
    outcome: dict[str, Ended] = {}
    for grant in ended:
        revoked, discredited = [], []
        for row in issued.get(grant.id, []):
            valid = row.revoked_at is None and row.expires_at > now
            if valid or (row.revoked_at is None and reason != EXPIRED):
                revoke.append(row.id)
            elif row.revocation_reason == REVOCATION_REASONS[EXPIRED] and reason != EXPIRED:
                discredit.append(row.id)
            else:
                continue
            discredited.append(row.id)
            if valid:
                revoked.append(row.id)
        outcome[grant.id] = Ended(tuple(revoked), tuple(discredited))
    revoke_credentials(session, revoke, REVOCATION_REASONS[reason], actor, now)
    for part in among(session, IssuedCredential.id, discredit):
        session.execute(
            update(IssuedCredential)
            .where(part)
            .values(revocation_reason=REVOCATION_REASONS[reason])
            .execution_options(synchronize_session="fetch")
        )
    entries = []
    for grant in ended:
        details = {
            "grant": grant.id,
            "reason": reason,
            "credentials": len(outcome[grant.id].revoked),
        }
        entries.append(
            Pending("vouching.peer_lapsed", actor, references.get(grant.account_id), details)
        )
    record_many(session, entries)
    return outcome


def lapse_grant(
    session: Session,
    subject_keys: SubjectKeys,
    grant: PeerGrant,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> Ended | None:
    """`lapse_grants` for one grant; None if it had ended already."""
    return lapse_grants(session, subject_keys, [grant], reason, actor, now).get(grant.id)


def holders(session: Session, accounts: Iterable[str], now: dt.datetime) -> set[str]:
    """Those of the accounts that still hold a valid `real_person` attestation (any source)."""
    found: set[str] = set()
    for part in among(session, IssuedCredential.account_id, accounts):
        found.update(
            a
            for a in session.scalars(
                select(IssuedCredential.account_id).where(
                    part,
                    IssuedCredential.type == REAL_PERSON,
                    IssuedCredential.revoked_at.is_(None),
                    IssuedCredential.expires_at > now,
                )
            )
            if a is not None
        )
    return found
