"""Logout: OIDC RP-Initiated Logout 1.0 and Back-Channel Logout 1.0.

Ending a browser session revokes the grants made in it (except `offline_access` ones, which
outlive sessions by definition) and queues a signed `logout+jwt` for every client of that
session that registered a `backchannel_logout_uri`. The outbox signs and retries them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import jwt
from sqlalchemy.orm import Session

from adapters import Delivery, enqueue
from audit import record
from identity.oidc.clients import get_client, list_clients
from identity.oidc.models import Client
from identity.oidc.provider import Provider
from identity.oidc.tokens import grants_in_session, revoke_grant

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = 120
DELIVERY_KIND = "backchannel_logout"


class InvalidLogoutRequest(Exception):
    """RP-initiated logout parameters that must not lead to a redirect."""


def parse_id_token_hint(session: Session, provider: Provider, hint: str) -> dict[str, Any]:
    """An ID token we issued (expired is fine, OIDC RP-Initiated Logout §2)."""
    try:
        kid = jwt.get_unverified_header(hint).get("kid", "")
        key = provider.keyring.public_key(session, str(kid))
        return jwt.decode(
            hint,
            key,
            algorithms=["RS256", "ES256"],
            issuer=provider.config.issuer,
            options={"verify_exp": False, "verify_aud": False, "require": ["sub", "aud", "iss"]},
        )
    except Exception as exc:  # any failure means: not a hint we can trust
        raise InvalidLogoutRequest(
            "id_token_hint is not a valid ID token from this provider"
        ) from exc


def resolve_post_logout(
    session: Session,
    provider: Provider,
    params: Mapping[str, str],
) -> tuple[Client | None, dict[str, Any] | None, str | None]:
    """Validate the request: which client, which hint, and where to send the browser after."""
    hint = params.get("id_token_hint")
    claims = parse_id_token_hint(session, provider, hint) if hint else None
    client_id = params.get("client_id")
    if claims is not None:
        aud = claims["aud"]
        hinted = aud if isinstance(aud, str) else (aud[0] if aud else "")
        if client_id and client_id != hinted:
            raise InvalidLogoutRequest("client_id does not match the id_token_hint")
        client_id = hinted
    client = get_client(session, client_id) if client_id else None
    if client_id and client is None:
        raise InvalidLogoutRequest("unknown client")
    target = params.get("post_logout_redirect_uri")
    if target:
        if client is None:
            # §2 leaves id_token_hint and client_id optional (RECOMMENDED): the URI must then
            # be registered by some client; it names that client when only one registered it.
            registered = [c for c in list_clients(session) if target in c.post_logout_redirect_uris]
            if not registered:
                raise InvalidLogoutRequest("post_logout_redirect_uri is not registered")
            client = registered[0] if len(registered) == 1 else None
        elif target not in client.post_logout_redirect_uris:
            raise InvalidLogoutRequest("post_logout_redirect_uri is not registered for the client")
        state = params.get("state")
        if state:
            target += ("&" if "?" in target else "?") + urlencode({"state": state})
    return client, claims, target


def enqueue_backchannel_logout(
    session: Session,
    provider: Provider,
    client: Client,
    sub: str,
    *,
    sid: str | None = None,
    correlation_id: str | None = None,
) -> Delivery | None:
    """Queue a Back-Channel Logout 1.0 §2.4 logout token for `client` (None when it
    registered no `backchannel_logout_uri`): for one session with `sid`, else for every session
    of the resident `sub` there. The outbox signs it when it delivers (`render_logout_token`)."""
    if not client.backchannel_logout_uri:
        return None
    payload: dict[str, Any] = {
        "iss": provider.config.issuer,
        "aud": client.client_id,
        "sub": sub,
        "jti": uuid.uuid4().hex,
        "events": {BACKCHANNEL_EVENT: {}},
        "alg": client.id_token_alg,
    }
    if sid is not None:
        payload["sid"] = sid
    return enqueue(
        session,
        kind=DELIVERY_KIND,
        client_id=client.client_id,
        target_uri=client.backchannel_logout_uri,
        payload=payload,
        correlation_id=correlation_id,
    )


def render_logout_token(provider: Provider) -> Any:
    def render(session: Session, payload: Mapping[str, Any]) -> tuple[bytes, str]:
        now = int(time.time())
        claims = {k: v for k, v in payload.items() if k != "alg"}
        claims.update(iat=now, exp=now + LOGOUT_TOKEN_TTL)
        token = provider.keyring.sign_jwt(
            session, claims, str(payload.get("alg", "RS256")), headers={"typ": "logout+jwt"}
        )
        return urlencode({"logout_token": token}).encode(), "application/x-www-form-urlencoded"

    return render


def end_session(
    session: Session,
    provider: Provider,
    sid: str,
    subject_ref: str | None,
    actor: str = "resident",
) -> int:
    """Revoke the session's grants and queue back-channel logout. Returns deliveries queued.
    `actor`: who ended it (the resident logging out, or an operator disabling the account)."""
    queued = 0
    notified: set[str] = set()
    for grant in grants_in_session(session, sid):
        client = get_client(session, grant.client_id)
        if "offline_access" not in grant.scope.split():
            revoke_grant(session, grant.id, "logout")
        if client is None or not client.backchannel_logout_uri or client.client_id in notified:
            continue
        notified.add(client.client_id)
        enqueue_backchannel_logout(
            session,
            provider,
            client,
            provider.subject_ids.for_client(client, grant.account_id),
            sid=provider.subject_ids.session_for(client, grant.sid),
        )
        queued += 1
    record(session, "logout.completed", actor, subject_ref, {"backchannel": queued})
    return queued
