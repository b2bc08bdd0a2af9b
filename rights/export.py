"""Access and portability (GDPR Art. 15 and 20): everything Kluis holds about a resident as
one JSON document — account data, attestation metadata, consents with their events, and
which platform received which claim when (from the audit log, found through the resident's
opaque reference)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import credentials_for_account, held_credentials, offers_for_account
from audit import AuditEntry
from consent import consents_of, record_document
from core import utcnow
from identity import Account, Provider, get_client, own_profile

EXPORT_VERSION = 1


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _consents(session: Session, provider: Provider, account_id: str) -> list[dict[str, Any]]:
    platforms = []
    for client_id, states in consents_of(session, account_id).items():
        client = get_client(session, client_id)
        pseudonym = provider.subject_ids.for_client(client, account_id) if client else None
        platforms.append(
            {
                "platform": {"client_id": client_id, "name": client.name if client else None},
                "your_pseudonym_there": pseudonym,
                "records": [
                    record_document(s, controller=provider.config.issuer, pseudonym=pseudonym)
                    for s in states
                ],
            }
        )
    return platforms


def _disclosures(session: Session, subject_ref: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_ref == subject_ref, AuditEntry.event == "claims.released")
        .order_by(AuditEntry.idx)
    )
    out = []
    for row in rows:
        details = json.loads(row.entry).get("details", {})
        out.append(
            {
                "at": _iso(row.created_at),
                "platform": details.get("client"),
                "claims": details.get("claims", []),
                # entries written before releases named their fields: a claim was its field
                "fields": details.get("fields", details.get("claims", [])),
                "channel": details.get("channel"),
            }
        )
    return out


def export_account(session: Session, provider: Provider, account: Account) -> dict[str, Any]:
    """The resident's own data, for them alone (decrypted with their data key)."""
    profile = own_profile(session, provider.subject_keys, account)
    ref = provider.subject_keys.reference(session, account.id)
    return {
        "version": EXPORT_VERSION,
        "controller": provider.config.issuer,
        "generated_at": _iso(utcnow()),
        "account": {
            "username": profile.handle,
            "name": profile.name,
            "email": profile.email,
            "email_verified": profile.email_verified,
            "status": account.status,
            "created_at": _iso(account.created_at),
        },
        "attestations": {
            "offers": [
                _plain(dataclasses.asdict(o)) for o in offers_for_account(session, account.id)
            ],
            "issued": [
                _plain(dataclasses.asdict(c)) for c in credentials_for_account(session, account.id)
            ],
            "built_in_wallet": [
                _plain(dataclasses.asdict(h)) for h in held_credentials(session, account.id)
            ],
        },
        "consents": _consents(session, provider, account.id),
        "disclosures": _disclosures(session, ref),
    }
