"""What an access token tells: the UserInfo response (OIDC Core §5.3) and token
introspection (RFC 7662). Both release only what the resident's consent allows now."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import InvalidToken
from identity.oidc import tokens
from identity.oidc.clients import get_client
from identity.oidc.models import Client
from identity.oidc.provider import Provider


def userinfo_response(session: Session, provider: Provider, bearer: str) -> dict[str, Any]:
    """`sub` plus the requested claims under active consent, and their `claims.released`
    entry. The caller commits."""
    found = tokens.active_token(session, bearer, "access")
    if found is None:
        raise InvalidToken("the access token is invalid, expired or revoked")
    access, grant = found
    if "openid" not in access.scope.split():
        raise InvalidToken("the access token was not issued for OpenID Connect")
    client = get_client(session, grant.client_id)
    if client is None:
        raise InvalidToken("the client no longer exists")
    names = tokens.released_claims(session, grant, "userinfo")
    if access.scope != grant.scope:
        # A refresh narrowed this token's scope (RFC 6749 §6): scope-derived claims follow
        # the token; claims asked for by name (claims parameter) stay as granted.
        registry = provider.claims
        by_name = names - registry.claims_for_scopes(set(grant.scope.split()))
        names = (names & registry.claims_for_scopes(set(access.scope.split()))) | by_name
    values = tokens.resolve_claims(session, provider, client, grant, names)
    body: dict[str, Any] = {"sub": provider.subject_ids.for_client(client, grant.account_id)}
    body.update(values)
    tokens.record_release(session, provider, grant, values, "userinfo")
    return body


def introspection(
    session: Session, provider: Provider, client: Client, value: str
) -> dict[str, Any]:
    """RFC 7662 §2.2. A client learns only about its own tokens; anything else is inactive."""
    found = tokens.active_token(session, value)
    if found is None or found[0].client_id != client.client_id:
        return {"active": False}
    row, grant = found
    return {
        "active": True,
        "scope": row.scope,
        "client_id": row.client_id,
        "token_type": "Bearer" if row.kind == "access" else "refresh_token",
        "exp": int(row.expires_at.timestamp()),
        "iat": int(row.issued_at.timestamp()),
        "sub": provider.subject_ids.for_client(client, grant.account_id),
        "aud": client.client_id,
        "iss": provider.config.issuer,
    }
