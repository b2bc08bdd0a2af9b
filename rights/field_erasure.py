"""Erasure of one field (GDPR Art. 17 for part of the data; Art. 19 to recipients).

The resident (or an operator on their behalf) asks Kluis to erase one field: their `name`, or
an attestation type (`postcode`, `age`, `real_person`). The request has the same lifecycle and
listing as a whole-account erasure (`ErasureRequest` with `field` set), in this order:

1. `received` (due in 30 days, Art. 12(3)), audited under the resident's opaque reference;
2. `executing`: delete the field's data — the encrypted name, or the attestations of that type
   (revoked on their status list) with their open credential offers (encrypted claims);
   withdraw every consent for the field's claims at every platform (a `withdrawn` event, so the
   next ID token or UserInfo response lacks them);
3. tell every platform that ever received one of those claims (from the ledger, under an
   OIDC claim name or a DCQL path of the type's claims, `of_field`) with a CAEP
   `token-claims-change` SET whose claims (the names it received) are null, linked to the
   request;
4. `propagating` until every platform acknowledged (`completed`) or the due date passed
   (`overdue`): `refresh_erasure_states`, as for whole-account erasure.

The account, its sessions and other data stay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from attestations import (
    CredentialOffer,
    IssuedCredential,
    credential_type,
    discard_held,
    forget_letters,
    revoke_credential,
    vouching,
)
from consent import GIVEN, ConsentEvent, ConsentRecord, withdraw_consent
from identity import Account, Provider, get_client
from rights.errors import UnknownField
from rights.lifecycle import EXECUTING, conclude, link_delivery, receive_request
from rights.models import ErasureRequest
from rights.signals import TOKEN_CLAIMS_CHANGE, enqueue_security_event
from rights.tombstones import Tombstone, TombstoneJournal

# field -> the OIDC claims released from it
FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "postcode": ("postcode_area", "municipality"),
    "age": ("age_over_18",),
    "real_person": ("real_person",),
}
ATTESTATION_FIELDS = frozenset({"postcode", "age", "real_person"})
METHOD = "field-erasure"


def claim_roots(field: str) -> frozenset[str]:
    """Top-level claim names of the field: its OIDC claims and, for an attestation type, every
    claim of the type (`postcode`, `postcode_area`, `municipality`, `residence_source`…)."""
    roots = set(FIELDS[field])
    if field in ATTESTATION_FIELDS:
        roots.update(str(spec.path[0]) for spec in credential_type(field).claims)
    return frozenset(roots)


def of_field(field: str, claim: str) -> bool:
    """Whether a consent ledger claim name belongs to the field. The built-in wallet records
    DCQL claim paths joined by "." (OpenID4VP 1.0 §7, e.g. `municipality.code`): those match on
    their first path element."""
    return claim.split(".", 1)[0] in claim_roots(field)


def received(session: Session, account_id: str, field: str) -> dict[str, tuple[str, ...]]:
    """Platform -> the field's claims it ever received about the resident (a `given` event),
    under any name: an OIDC claim or a DCQL path through the built-in wallet."""
    rows = session.execute(
        select(ConsentRecord.client_id, ConsentRecord.claim)
        .join(ConsentEvent, ConsentEvent.record_id == ConsentRecord.id)
        .where(ConsentRecord.account_id == account_id, ConsentEvent.event == GIVEN)
    )
    found: dict[str, set[str]] = {}
    for client_id, claim in rows:
        if of_field(field, claim):
            found.setdefault(client_id, set()).add(claim)
    return {client_id: tuple(sorted(found[client_id])) for client_id in sorted(found)}


def fields_held(session: Session, account: Account) -> list[str]:
    """The fields Kluis holds something of for the resident (what the erase-field page
    offers): the name if one is stored, and each attestation type with a live attestation,
    an open offer or a copy in the built-in wallet."""
    held = ["name"] if account.name_enc else []
    for field in sorted(ATTESTATION_FIELDS):
        issued = select(IssuedCredential.id).where(
            IssuedCredential.account_id == account.id,
            IssuedCredential.type == field,
            IssuedCredential.revoked_at.is_(None),
        )
        offered = select(CredentialOffer.id).where(
            CredentialOffer.account_id == account.id, CredentialOffer.type == field
        )
        if session.scalar(issued.limit(1)) or session.scalar(offered.limit(1)):
            held.append(field)
    return held


def _delete_field_data(
    session: Session, account: Account, field: str, actor: str
) -> tuple[int, int]:
    """Delete what Kluis holds for the field: the attestations of the type are revoked, their
    open offers and the built-in wallet's copies deleted (both encrypted under the resident's
    data key, which stays). Returns (attestations revoked, wallet copies deleted)."""
    if field == "name":
        account.name_enc = None
        return 0, 0
    revoked = 0
    rows = session.scalars(
        select(IssuedCredential).where(
            IssuedCredential.account_id == account.id,
            IssuedCredential.type == field,
            IssuedCredential.revoked_at.is_(None),
        )
    )
    for row in list(rows):
        revoke_credential(session, row.id, "erasure", actor)
        revoked += 1
    session.execute(
        delete(CredentialOffer)
        .where(CredentialOffer.account_id == account.id, CredentialOffer.type == field)
        .execution_options(synchronize_session=False)
    )
    return revoked, discard_held(session, account.id, field)


def execute_field_erasure(
    session: Session,
    provider: Provider,
    *,
    account_id: str,
    field: str,
    requested_by: str,
    actor: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
    tombstones: TombstoneJournal | None = None,
    replay: Tombstone | None = None,
) -> ErasureRequest:
    """Erase one field and queue the notices to platforms. The caller commits; with
    `tombstones`, the tombstone is journaled just before that commit. `replay` re-applies a
    tombstone after a restore (`rights.lifecycle.receive_request`)."""
    if field not in FIELDS:
        raise UnknownField(tuple(FIELDS))
    account, request, ref = receive_request(
        session,
        provider,
        account_id=account_id,
        requested_by=requested_by,
        actor=actor,
        reason=reason,
        field=field,
        now=now,
        replay=replay,
    )
    now = request.received_at
    request.status = EXECUTING
    revoked, discarded = _delete_field_data(session, account, field, actor)
    letters = 0
    if field == "postcode":  # the shared-address rule's keyed address goes with it
        vouching.forget_address(session, provider.subject_keys, account_id=account_id, actor=actor)
        # and the address data of the letters they redeemed (the audit log names the letters)
        letters = forget_letters(session, provider.subject_keys, account_id)
    got = received(session, account_id, field)
    if replay is not None:  # the platforms told before, whether or not the backup knew
        got = merge_platforms(got, replay.platforms)
    platforms = list(got)
    for client_id, claims in got.items():
        withdraw_consent(
            session,
            account_id=account_id,
            subject_ref=ref,
            client_id=client_id,
            claims=claims,
            actor=actor,
            method=METHOD,
        )
    queued = sum(
        notify_claims_change(session, provider, request, account_id, client_id, claims, now)
        for client_id, claims in got.items()
    )
    details = {
        "by": requested_by,
        "field": field,
        "credentials": revoked,
        "wallet_credentials": discarded,
        **({"letters": letters} if letters else {}),
        "platforms": platforms,
        "deliveries": queued,
    }
    return conclude(session, request, account_id, details, platforms=got, tombstones=tombstones)


def merge_platforms(
    *sources: Mapping[str, tuple[str, ...]],
) -> dict[str, tuple[str, ...]]:
    merged: dict[str, set[str]] = {}
    for source in sources:
        for client_id, claims in source.items():
            merged.setdefault(client_id, set()).update(claims)
    return {c: tuple(sorted(merged[c])) for c in sorted(merged)}


def notify_claims_change(
    session: Session,
    provider: Provider,
    request: ErasureRequest,
    account_id: str,
    client_id: str,
    claims: tuple[str, ...],
    at: dt.datetime,
) -> int:
    """CAEP 1.0 §3.2 token-claims-change: the field's claims are no longer released (null)."""
    client = get_client(session, client_id)
    if client is None:
        return 0
    event = {
        "event_timestamp": int(at.timestamp()),
        "initiating_entity": "user",
        "reason_admin": {"en": "erasure of one field (GDPR Art. 17)"},
        "claims": {name: None for name in claims},
    }
    delivery = enqueue_security_event(
        session,
        issuer=provider.config.issuer,
        client=client,
        sub=provider.subject_ids.for_client(client, account_id),
        event_type=TOKEN_CLAIMS_CHANGE,
        event=event,
        correlation_id=request.id,
    )
    return link_delivery(session, request, delivery, client_id=client_id)
