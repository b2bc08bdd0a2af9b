"""Kluis's own verification sessions: login by QR (cross-device OpenID4VP 1.0).

A login session belongs to no platform (`client_id` is NULL, `kind` is "login"). Its DCQL
query (§6) asks for one credential of any type Kluis issues and for no claim at all: the
presentation proves possession of a Kluis credential (issuer signature, status, key binding
to this session's nonce), and the credential's status list entry says whose it is
(`attestations.holders`). Nothing the credential says is disclosed to log in.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.holders import account_of_credential
from attestations.statuslist import StatusReference
from attestations.types import TYPES
from attestations.verifier.config import VerifierConfig
from attestations.verifier.errors import PresentationRejected
from attestations.verifier.models import VerifierSession
from attestations.verifier.purge import purge_when_due
from audit import record
from core import utcnow

LOGIN_KIND = "login"
LOGIN_QUERY_ID = "kluis_login"


def login_query(issuer: str) -> dict[str, Any]:
    """One credential of any Kluis type, no claims (§6.1: without `claims` the verifier
    requests none of the selectively disclosable claims)."""
    config = AttestationConfig(issuer)
    vcts = [config.vct(type_id) for type_id in sorted(TYPES)]
    return {
        "credentials": [{"id": LOGIN_QUERY_ID, "format": "dc+sd-jwt", "meta": {"vct_values": vcts}}]
    }


def create_login_session(session: Session, config: VerifierConfig, purpose: str) -> VerifierSession:
    """A pending login session owned by Kluis itself (not committed)."""
    now = utcnow()
    purge_when_due(session, now)
    row = VerifierSession(
        id=secrets.token_urlsafe(24),
        client_id=None,
        kind=LOGIN_KIND,
        dcql_query=login_query(config.issuer),
        purpose=purpose,
        poll_id=None,
        nonce=secrets.token_urlsafe(32),
        state=secrets.token_urlsafe(32),
        status="pending",
        created_at=now,
        expires_at=now + config.session_ttl,
    )
    session.add(row)
    session.flush()
    record(session, "verifier.session_created", "kluis:login", details={"session": row.id})
    return row


def status_entry(ref: StatusReference | None) -> dict[str, Any] | None:
    """How a login result names the presented credential (its status list entry); a
    credential without one cannot log anyone in (`check_login_credentials` refuses it)."""
    return {"uri": ref.uri, "idx": ref.idx} if ref is not None else None


def check_login_credentials(
    session: Session, config: VerifierConfig, entries: list[dict[str, Any]]
) -> None:
    """At presentation time: refuse a credential that cannot log anyone in (not linked to a
    live account), so the wallet hears it at once. Completion checks again."""
    attestation_config = AttestationConfig(config.issuer)
    for entry in entries:
        ref = StatusReference.from_claims({"status": {"status_list": entry.get("status")}})
        iss = entry.get("iss")  # verified: only Kluis's own credentials log anyone in
        if account_of_credential(session, attestation_config, ref, iss=iss) is None:
            raise PresentationRejected("this credential cannot be used to log in")
