"""Attestations from the municipality (#12): "Haal mijn gegevens op bij de gemeente".

1. `start_municipality_login`: a logged-in resident is sent to the municipality's DigiD
   broker (OpenID Connect, `adapters.UpstreamLogin`); the state, nonce and PKCE verifier wait
   in `municipality_logins`, bound to the account, for minutes.
2. `finish_municipality_login`: the callback takes that row once (a conditional DELETE, so a
   replayed callback finds nothing), the broker's ID token gives the BSN, the account is
   linked to the person (one account per person, `identity.link_person`), the registry is
   asked once (`adapters.Registry`, Haal Centraal BRP), and offers are made for what it makes
   certain: a `postcode` attestation (a Dutch address only) and an `age` attestation (only
   the thresholds certain for the birth date's precision), both with
   `residence_source`/source `registry`. With a `postcode` offer, the keyed hash of the full
   address (postcode and house number) is recorded for peer vouching's shared-address rule
   (`vouching.record_address`).

The BSN, the birth date and the address live only in this call's memory: the offers hold the
derived claims (encrypted under the resident's data key, `create_offer`), the person link a
keyed hash, the vouching graph a keyed hash of the address, the audit log the types offered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from adapters import (
    PendingLogin,
    Registry,
    RegistryRecord,
    UpstreamLogin,
    birth_bounds,
    home_address,
    postcode_claims,
)
from attestations.config import AttestationConfig
from attestations.errors import InvalidClaims
from attestations.issuance import CreatedOffer, create_offer
from attestations.models import CredentialOffer, MunicipalityLogin
from attestations.vouching import VouchingConfig, record_address
from audit import AuditEntry, record
from core import InvalidInput, rowcount, token_hash, utcnow
from identity import link_person
from keys import SubjectKeys

log = logging.getLogger("kluis.municipality")
ACTOR = "system:registry"  # who offers: the registry source, on the resident's own request
OFFERED = "attestation.offered"  # `create_offer`'s audit event


@dataclasses.dataclass(frozen=True)
class MunicipalitySource:
    """The broker residents log in at and the registry Kluis then asks (built once by the
    runtime from the settings; None there when the municipality source is not configured)."""

    upstream: UpstreamLogin
    registry: Registry
    person_key: bytes  # `identity.PERSON_KEY_PURPOSE`
    login_ttl: dt.timedelta = dt.timedelta(minutes=10)


class MunicipalityLoginGone(Exception):
    """The callback matches no login under way for this account: expired, already used, or
    started by someone else."""


@dataclasses.dataclass(frozen=True)
class MunicipalityOffers:
    offers: dict[str, CreatedOffer]  # type id -> the offer (with its transaction code)
    not_offered: list[str]  # types the registry could not make certain


def start_municipality_login(
    session: Session, source: MunicipalitySource, account_id: str, ui_locales: str | None
) -> str:
    """Store the pending login and return the broker's authorization URL. The caller commits."""
    now = utcnow()
    session.execute(
        delete(MunicipalityLogin)
        .where(MunicipalityLogin.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    url, pending = source.upstream.start_login(ui_locales=ui_locales)
    session.add(
        MunicipalityLogin(
            id=token_hash(pending.state),
            account_id=account_id,
            pending=dataclasses.asdict(pending),
            created_at=now,
            expires_at=now + source.login_ttl,
        )
    )
    session.flush()
    return url


def take_pending(session: Session, account_id: str, state: str | None) -> PendingLogin:
    """The pending login the callback's `state` names, removed so that it serves once; only
    for the account that started it."""
    if not state or len(state) > 512:
        raise MunicipalityLoginGone()
    row = session.get(MunicipalityLogin, token_hash(state))
    if row is None or row.account_id != account_id or row.expires_at <= utcnow():
        raise MunicipalityLoginGone()
    pending = PendingLogin(**row.pending)
    taken = session.execute(
        delete(MunicipalityLogin)
        .where(MunicipalityLogin.id == row.id)
        .execution_options(synchronize_session=False)
    )
    if rowcount(taken) != 1:
        raise MunicipalityLoginGone()  # a concurrent callback took it first
    return pending


def finish_municipality_login(
    session: Session,
    source: MunicipalitySource,
    subject_keys: SubjectKeys,
    config: AttestationConfig,
    *,
    vouching: VouchingConfig,
    account_id: str,
    callback: Mapping[str, str],
    today: dt.date | None = None,
) -> MunicipalityOffers:
    """Steps 2-5 above (`vouching` keys the address hash). Raises `MunicipalityLoginGone`,
    the broker's `UpstreamLoginError`, `identity.PersonHasAnotherAccount`/
    `AccountOfAnotherPerson` or the registry's `RegistryError`; a taken pending login stays
    taken (the caller commits in every case)."""
    pending = take_pending(session, account_id, callback.get("state"))
    subject_ref = subject_keys.reference(session, account_id)
    bsn = source.upstream.finish_login(pending, callback).bsn
    link_person(session, source.person_key, account_id=account_id, bsn=bsn, subject_ref=subject_ref)
    # The link and its audit entry are committed before the registry is asked: no lock (the
    # audit log's append lock on PostgreSQL) is held over a network call with retries, and
    # the vouching graph lock below is taken before this transaction appends again.
    session.commit()
    found = source.registry.lookup(bsn)
    del bsn  # used for the link and the one look-up: nothing else needs it
    moment = utcnow()
    day = today or moment.date()
    inputs: dict[str, object] = {}
    if (postcode := postcode_claims(found)) is not None:
        inputs["postcode"] = postcode
    if (bounds := birth_bounds(found, day)) is not None:
        inputs["age"] = {"born_between": [bounds[0].isoformat(), bounds[1].isoformat()]}
    if "postcode" in inputs:  # first: the graph lock goes before the audit log's lock
        _record_home(session, subject_keys, vouching, account_id, found, moment)
    offers: dict[str, CreatedOffer] = {}
    earlier = offered_before(session, subject_ref)
    replaced: list[str] = []
    for type_id, claims in inputs.items():
        try:
            offers[type_id] = create_offer(
                session,
                subject_keys,
                config,
                account_id=account_id,
                type_id=type_id,
                claims=claims,
                actor=ACTOR,
                now=moment,
            )
        except InvalidClaims:
            continue  # e.g. a birth year that makes no age threshold certain yet
        replaced += end_pending(session, account_id, type_id, earlier, moment)
    not_offered = sorted({"postcode", "age"} - set(offers))
    details = {"offered": sorted(offers), "not_offered": not_offered, "replaced": replaced}
    record(session, "registry.consulted", "resident", subject_ref, details)
    return MunicipalityOffers(offers, not_offered)


def offered_before(session: Session, subject_ref: str) -> set[str]:
    """The ids of the offers this flow made the resident before (its `attestation.offered`
    audit entries: the offers themselves do not say which source made them)."""
    entries = session.scalars(
        select(AuditEntry.entry).where(
            AuditEntry.event == OFFERED,
            AuditEntry.actor == ACTOR,
            AuditEntry.subject_ref == subject_ref,
        )
    )
    return {str(json.loads(entry).get("details", {}).get("offer_id")) for entry in entries}


def end_pending(
    session: Session, account_id: str, type_id: str, earlier: set[str], now: dt.datetime
) -> list[str]:
    """A new offer replaces the still-pending offers of its type from an earlier run: they
    expire now, so a resident who fetches twice has one offer per type to redeem, not two.
    Offers already redeemed (`used_at`) stay as they are. Returns the ids ended."""
    if not earlier:
        return []
    pending = session.scalars(
        select(CredentialOffer.id).where(
            CredentialOffer.account_id == account_id,
            CredentialOffer.type == type_id,
            CredentialOffer.id.in_(earlier),
            CredentialOffer.used_at.is_(None),
            CredentialOffer.expires_at > now,
        )
    ).all()
    if pending:
        session.execute(
            update(CredentialOffer)
            .where(CredentialOffer.id.in_(pending), CredentialOffer.used_at.is_(None))
            .values(expires_at=now)
            .execution_options(synchronize_session=False)
        )
    return sorted(pending)


def _record_home(
    session: Session,
    subject_keys: SubjectKeys,
    vouching: VouchingConfig,
    account_id: str,
    found: RegistryRecord,
    now: dt.datetime,
) -> None:
    """Record the keyed hash of the address the `postcode` offer is about; the house number
    goes no further than the hash. An address the hash refuses is left out (logged without
    it): the offer stands, the shared-address rule just does not know this address."""
    address = home_address(found)
    if address is None:
        return
    postcode, number, addition = address
    try:
        record_address(
            session,
            subject_keys,
            vouching,
            account_id=account_id,
            postcode=postcode,
            house_number=number,
            addition=addition,
            source="registry",
            actor=ACTOR,
            now=now,
        )
    except InvalidInput:
        log.warning("registry address not recorded for vouching: addition not accepted")
