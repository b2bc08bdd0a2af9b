"""Security Event Tokens to platforms: what Kluis tells a platform when a resident withdraws
consent or is erased.

- RFC 8417 SETs (`typ: secevent+jwt`; `iss`, `aud`, `iat`, `jti`, `events`; no `exp`, §2.2)
  with the subject as an RFC 9493 `iss_sub` identifier in a top-level `sub_id` (Shared
  Signals Framework 1.0), carrying that platform's own pairwise `sub`.
- Events: CAEP 1.0 §3.2 `token-claims-change` (consent withdrawn: the named claims are no
  longer released, their new value is null) and RISC 1.0 `account-purged` (erasure).
- Delivery: RFC 8935 push (POST `application/secevent+jwt` to the client's `events_uri`)
  through the persistent outbox. The payload is stored unsigned with its `jti` fixed at
  enqueue time; each attempt signs it afresh with a new `iat`, so retries are never
  duplicated in effect (receivers deduplicate by `jti`).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import Delivery, Renderer, enqueue
from identity import Client, Grant, Provider, SubjectIds, claims_of_field, get_client, revoke_grant
from keys import Keyring

SET_TYPE = "secevent+jwt"
SET_MEDIA_TYPE = "application/secevent+jwt"
DELIVERY_KIND = "security_event"
CAEP_EVENTS = "https://schemas.openid.net/secevent/caep/event-type/"
TOKEN_CLAIMS_CHANGE = CAEP_EVENTS + "token-claims-change"
ACCOUNT_PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
SET_ALGS = ("RS256", "ES256")


def iss_sub(issuer: str, sub: str) -> dict[str, str]:
    """RFC 9493 §3.2.5: the `iss_sub` subject identifier format."""
    return {"format": "iss_sub", "iss": issuer, "sub": sub}


def set_payload(
    issuer: str, client: Client, sub: str, event_type: str, event: Mapping[str, Any]
) -> dict[str, Any]:
    """The unsigned claims of one SET (without `iat`, added at signing) plus the signing
    algorithm the client expects for Kluis's tokens."""
    return {
        "iss": issuer,
        "aud": client.client_id,
        "jti": uuid.uuid4().hex,
        "sub_id": iss_sub(issuer, sub),
        "events": {event_type: dict(event)},
        "alg": client.id_token_alg if client.id_token_alg in SET_ALGS else "RS256",
    }


def enqueue_security_event(
    session: Session,
    *,
    issuer: str,
    client: Client,
    sub: str,
    event_type: str,
    event: Mapping[str, Any],
    correlation_id: str | None = None,
) -> Delivery | None:
    """Queue one SET for the client's `events_uri`; None when it registered none."""
    if not client.events_uri:
        return None
    return enqueue(
        session,
        kind=DELIVERY_KIND,
        client_id=client.client_id,
        target_uri=client.events_uri,
        payload=set_payload(issuer, client, sub, event_type, event),
        correlation_id=correlation_id,
    )


def render_security_event(keyring: Keyring) -> Renderer:
    """Outbox renderer: sign the stored claims now (RFC 8417 §2.2 `iat` = time of issue)."""

    def render(session: Session, payload: Mapping[str, Any]) -> tuple[bytes, str]:
        claims = {k: v for k, v in payload.items() if k != "alg"}
        claims["iat"] = int(time.time())
        alg = str(payload.get("alg", "RS256"))
        token = keyring.sign_jwt(session, claims, alg, headers={"typ": SET_TYPE})
        return token.encode("ascii"), SET_MEDIA_TYPE

    return render


class ConsentSignals:
    """The effects of a consent withdrawal beyond the ledger (a `WithdrawalListener`): the
    platform is told, and withdrawing `offline_access` revokes the grants that carry it (so
    their refresh tokens stop working at once; claims are filtered at every release anyway).
    """

    def __init__(self, issuer: str, subject_ids: SubjectIds) -> None:
        self.issuer = issuer
        self.subject_ids = subject_ids

    @classmethod
    def of(cls, provider: Provider) -> ConsentSignals:
        return cls(provider.config.issuer, provider.subject_ids)

    def __call__(
        self,
        session: Session,
        account_id: str,
        client_id: str,
        claims: list[str],
        at: dt.datetime,
    ) -> None:
        if "offline_access" in claims:
            _revoke_offline_grants(session, account_id, client_id)
        client = get_client(session, client_id)
        if client is None:
            return
        event = {
            "event_timestamp": int(at.timestamp()),
            "initiating_entity": "user",
            # CAEP §3.2.1: the changed claims with their new values; null = no longer released
            "claims": {name: None for field in claims for name in claims_of_field(field)},
        }
        enqueue_security_event(
            session,
            issuer=self.issuer,
            client=client,
            sub=self.subject_ids.for_client(client, account_id),
            event_type=TOKEN_CLAIMS_CHANGE,
            event=event,
        )


def _revoke_offline_grants(session: Session, account_id: str, client_id: str) -> None:
    grants = session.scalars(
        select(Grant).where(
            Grant.account_id == account_id,
            Grant.client_id == client_id,
            Grant.revoked_at.is_(None),
        )
    )
    for grant in list(grants):
        if "offline_access" in grant.scope.split():
            revoke_grant(session, grant.id, "consent_withdrawn")
