"""Consent receipts: a signed record, for the resident, of what they allowed one platform.

Fields follow the Kantara Consent Receipt Specification v1.1 (`version`, `jurisdiction`,
`consentTimestamp`, `collectionMethod`, `consentReceiptID`, `language`, `piiPrincipalId`,
`piiControllers`, `policyUrl`, `services[].purposes[]` with `piiCategory`, `consentType`,
`termination`, `thirdPartyDisclosure`, `sensitive`, `spiCat`), extended with what ISO/IEC TS
27560 adds: the legal basis per purpose and the consent events (given, refused, withdrawn).

The receipt is a JWT signed with Kluis's ES256 key (`typ: JWT`, `iss`, `iat`, `jti` = the
receipt id), verifiable against `/jwks.json`. The principal is named by the resident's
pairwise pseudonym at that platform, never by name or e-mail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from sqlalchemy.orm import Session

from consent import ConsentState, consents_of, purpose_iri, record_document
from core import utcnow
from identity import Client, SubjectIds
from keys import Keyring
from rights.errors import NoConsents

RECEIPT_VERSION = "KI-CR-v1.1.0"
RECEIPT_ALG = "ES256"
JURISDICTION = "NL"
LEGAL_BASES = {
    "gdpr:6-1-a": "GDPR Art. 6(1)(a) consent",
    "gdpr:6-1-b": "GDPR Art. 6(1)(b) contract",
    "gdpr:6-1-c": "GDPR Art. 6(1)(c) legal obligation",
    "gdpr:6-1-e": "GDPR Art. 6(1)(e) public task",
    "gdpr:6-1-f": "GDPR Art. 6(1)(f) legitimate interests",
}


def _ts(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _purposes(states: list[ConsentState]) -> list[dict[str, Any]]:
    by_purpose: dict[str, list[ConsentState]] = {}
    for state in states:
        by_purpose.setdefault(state.record.purpose, []).append(state)
    purposes = []
    for purpose, group in sorted(by_purpose.items()):
        first = group[0].record
        purposes.append(
            {
                "purpose": first.purpose_description or purpose,
                "purposeId": purpose,
                "purposeCategory": [purpose_iri(purpose) or purpose],
                "consentType": "EXPLICIT",
                "legalBasis": LEGAL_BASES.get(first.legal_basis, first.legal_basis),
                "piiCategory": sorted({s.record.claim for s in group if s.state == "given"}),
                "primaryPurpose": purpose == "service-provision",
                "termination": "until withdrawn by the resident (Mijn toestemmingen)",
                "thirdPartyDisclosure": False,
            }
        )
    return purposes


@dataclasses.dataclass(frozen=True)
class Receipt:
    receipt_id: str
    token: str  # the signed JWT


def consent_receipt(
    session: Session,
    keyring: Keyring,
    subject_ids: SubjectIds,
    *,
    issuer: str,
    account_id: str,
    client: Client,
    now: dt.datetime | None = None,
) -> Receipt:
    """Build and sign the receipt for everything the resident decided at `client`."""
    states = consents_of(session, account_id, client.client_id).get(client.client_id, [])
    if not states:
        raise NoConsents(client.client_id)
    now = now or utcnow()
    receipt_id = str(uuid.uuid4())
    principal = subject_ids.for_client(client, account_id)
    given = [e for s in states for e in s.events if e.event == "given"]
    claims: dict[str, Any] = {
        "iss": issuer,
        "iat": _ts(now),
        "jti": receipt_id,
        "version": RECEIPT_VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": _ts(min((e.at for e in given), default=now)),
        "collectionMethod": given[0].method if given else "none",
        "consentReceiptID": receipt_id,
        "language": states[0].record.language,
        "piiPrincipalId": principal,
        "piiControllers": [{"piiController": "Kluis", "url": issuer, "onBehalf": False}],
        "policyUrl": states[0].record.notice_ref or issuer,
        "recipient": {"clientId": client.client_id, "name": client.name},
        "services": [{"service": client.name, "purposes": _purposes(states)}],
        "sensitive": False,
        "spiCat": [],
        "consentRecords": [
            {"piiCategory": s.record.claim}
            | record_document(s, controller=issuer, pseudonym=principal)
            for s in states
        ],
    }
    token = keyring.sign_jwt(session, claims, RECEIPT_ALG, headers={"typ": "JWT"})
    return Receipt(receipt_id, token)
