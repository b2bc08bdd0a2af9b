"""What an access token tells: the UserInfo response (OIDC Core §5.3) and token
introspection (RFC 7662). Both release only what the resident's consent allows now."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from consent import adopt_decisions, latest_decisions_column
from core import InvalidToken, token_hash
from identity.accounts.models import Account
from identity.accounts.service import adopt_account
from identity.oidc import release, tokens
from identity.oidc.models import Client, Grant, Token
from identity.oidc.prefetch import adopt_keys, with_keys
from identity.oidc.provider import Provider


def userinfo_response(session: Session, provider: Provider, bearer: str) -> dict[str, Any]:
    """`sub` plus the requested claims under active consent, and their `claims.released`
    entry. The caller commits."""
    access, grant, client = _access_token_with_client(session, provider, bearer)
    if "openid" not in access.scope.split():
        raise InvalidToken("the access token was not issued for OpenID Connect")
    names = release.released_claims(session, grant, "userinfo")
    if access.scope != grant.scope:
        # A refresh narrowed this token's scope (RFC 6749 §6): scope-derived claims follow
        # the token; claims asked for by name (claims parameter) stay as granted.
        registry = provider.claims
        by_name = names - registry.claims_for_scopes(set(grant.scope.split()))
        names = (names & registry.claims_for_scopes(set(access.scope.split()))) | by_name
    values = release.resolve_claims(session, provider, client, grant, names)
    body: dict[str, Any] = {"sub": provider.subject_ids.for_client(client, grant.account_id)}
    body.update(values)
    release.record_release(session, provider, grant, values, "userinfo")
    return body


_TOKEN_GRANT_CLIENT = (  # built once: every userinfo request runs it
    select(
        Token,
        Grant,
        Client,
        Account,
        latest_decisions_column(Grant.account_id, Grant.client_id),
    )
    .join(Grant, Grant.id == Token.grant_id)
    .join(Client, Client.client_id == Grant.client_id)
    .outerjoin(Account, Account.id == Grant.account_id)
    .where(Token.token_hash == bindparam("hash"))
)


def _access_token_with_client(
    session: Session, provider: Provider, bearer: str
) -> tuple[Token, Grant, Client]:
    """The valid access token, its grant and its client, and what the response needs of the
    resident (the data key, for the claims and the audit reference; the account; the latest
    consent decisions at this platform), in one read."""
    found = None
    if bearer and len(bearer) < 256:
        found = with_keys(_TOKEN_GRANT_CLIENT, None).first(session, {"hash": token_hash(bearer)})
    if found is None or not tokens.is_active(found[0], found[1], "access"):
        # a client that no longer exists takes its grants (and tokens) with it (cascade)
        raise InvalidToken("the access token is invalid, expired or revoked")
    grant = found[1]
    adopt_keys(session, provider, grant, found, None)
    adopt_account(session, grant.account_id, found[3])
    adopt_decisions(session, grant.account_id, grant.client_id, found[4])
    return found[0], grant, found[2]


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
