"""What platforms hear when peer vouching changes a resident's claims (issue 10): a resident
whose confirmations no longer meet the threshold loses `real_person`, and an account a steward
found fake loses every attested claim. Each platform the resident currently lets receive one of
those claims (the latest consent event for it is `given`, under an OIDC claim name or a DCQL
path of the built-in wallet) gets a CAEP 1.0 §3.2 `token-claims-change` SET, as for a consent
withdrawal (rights/signals.py), naming the claims it received, now null.

The consent itself stays: the resident may verify again, and the claim is released again then.
The event says only that the attestation was revoked, never why (not "fake")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters import Mailer
from attestations import vouching
from audit import record
from consent import GIVEN, ConsentEvent, ConsentRecord
from identity import Provider, SubjectIds, get_client
from keys import SubjectKeys
from rights.field_erasure import FIELDS, of_field
from rights.signals import TOKEN_CLAIMS_CHANGE, enqueue_security_event
from rights.vouching_mail import stage_lapse_mails

# OIDC claim -> the field whose consent covers it
FIELD_OF_CLAIM = {claim: name for name, claims in FIELDS.items() for claim in claims}
REASON = {"en": "attestation revoked", "nl": "bewijs ingetrokken"}


def platforms_receiving(
    session: Session, account_id: str, claims: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """Platform -> the names under which it may currently receive one of `claims` (consent
    records of the resident whose latest event is `given`)."""
    fields = {FIELD_OF_CLAIM[c] for c in claims if c in FIELD_OF_CLAIM}
    if not fields:
        return {}
    latest = (
        select(ConsentEvent.record_id, func.max(ConsentEvent.id).label("last_id"))
        .join(ConsentRecord, ConsentRecord.id == ConsentEvent.record_id)
        .where(ConsentRecord.account_id == account_id)
        .group_by(ConsentEvent.record_id)
        .subquery()
    )
    rows = session.execute(
        select(ConsentRecord.client_id, ConsentRecord.claim)
        .join(latest, latest.c.record_id == ConsentRecord.id)
        .join(ConsentEvent, ConsentEvent.id == latest.c.last_id)
        .where(ConsentEvent.event == GIVEN)
    )
    found: dict[str, set[str]] = {}
    for client_id, claim in rows:
        if any(of_field(name, claim) for name in fields):
            found.setdefault(client_id, set()).add(claim)
    return {client_id: tuple(sorted(found[client_id])) for client_id in sorted(found)}


@dataclass
class VouchingSignals:
    """A `vouching.ClaimsListener` that tells the platforms. `initiating_entity` is `admin`
    for a steward's decision and `policy` for the rules at work (settle, erasure, the
    cascade); `queued` counts the events queued, for the steward's outcome page."""

    issuer: str
    subject_ids: SubjectIds
    subject_keys: SubjectKeys
    initiating_entity: str = "policy"
    queued: int = 0
    told: set[str] = field(default_factory=set)  # client ids

    @classmethod
    def of(cls, provider: Provider, initiating_entity: str = "policy") -> VouchingSignals:
        return cls(
            provider.config.issuer, provider.subject_ids, provider.subject_keys, initiating_entity
        )

    def __call__(
        self, session: Session, account_id: str, claims: tuple[str, ...], at: dt.datetime
    ) -> None:
        platforms = platforms_receiving(session, account_id, claims)
        for client_id, names in platforms.items():
            client = get_client(session, client_id)
            if client is None:
                continue
            event = {
                "event_timestamp": int(at.timestamp()),
                "initiating_entity": self.initiating_entity,
                "reason_admin": dict(REASON),
                "claims": {name: None for name in names},
            }
            delivery = enqueue_security_event(
                session,
                issuer=self.issuer,
                client=client,
                sub=self.subject_ids.for_client(client, account_id),
                event_type=TOKEN_CLAIMS_CHANGE,
                event=event,
            )
            if delivery is not None:
                self.queued += 1
                self.told.add(client_id)
        if platforms:
            record(
                session,
                "vouching.platforms_told",
                "system",
                subject_ref=self.subject_keys.reference(session, account_id),
                details={"claims": list(claims), "platforms": sorted(platforms)},
            )


def settle_vouching(
    session: Session,
    provider: Provider,
    config: vouching.VouchingConfig,
    *,
    actor: str = "system",
    now: dt.datetime | None = None,
    mailer: Mailer | None = None,
) -> tuple[vouching.CascadeOutcome, VouchingSignals]:
    """The periodic settle (`vouching.settle`) with the platforms told and, with `mailer`, the
    residents who lost `real_person` e-mailed (`vouching_mail`). It commits, batch by batch:
    `session` must not be inside `Database.transaction()`."""
    signals = VouchingSignals.of(provider)
    staged: set[str] = set()  # accounts mailed by this settle: one message each, as before

    def owe_mails(batch_session: Session, lapses: list[vouching.Lapse]) -> None:
        # in each batch's own transaction: a settle cut short owes what it decided
        fresh = [
            lapse for lapse in lapses if lapse.lost_real_person and lapse.account_id not in staged
        ]
        staged.update(lapse.account_id for lapse in fresh)
        issuer = provider.config.issuer
        assert mailer is not None
        stage_lapse_mails(batch_session, mailer, provider.subject_keys, issuer, fresh)

    outcome = vouching.settle(
        session,
        provider.subject_keys,
        config,
        now=now,
        listener=signals,
        actor=actor,
        on_lapses=owe_mails if mailer is not None else None,
    )
    return outcome, signals
