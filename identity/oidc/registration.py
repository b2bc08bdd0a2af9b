"""Dynamic client registration (RFC 7591), open only to holders of an operator-issued
initial access token (§3, "protected registration"); each token registers one client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from audit import record
from core import InvalidToken, OAuthError, new_token, rowcount, token_hash, utcnow
from identity.oidc.clients import ClientSpec, create_client, describe, validate_uri
from identity.oidc.errors import InvalidClientMetadata, InvalidRedirectUri
from identity.oidc.models import InitialAccessToken

SectorFetcher = Callable[[str], list[str]]


class InvalidClientMetadataError(OAuthError):
    error = "invalid_client_metadata"


class InvalidRedirectUriError(OAuthError):
    error = "invalid_redirect_uri"


def issue_initial_access_token(session: Session, ttl: dt.timedelta) -> tuple[str, dt.datetime]:
    value = new_token(32)
    now = utcnow()
    session.add(
        InitialAccessToken(token_hash=token_hash(value), created_at=now, expires_at=now + ttl)
    )
    record(session, "client.registration_token_issued", "operator:cli", None, {})
    return value, now + ttl


def consume_initial_access_token(session: Session, value: str) -> None:
    now = utcnow()
    result = session.execute(
        update(InitialAccessToken)
        .where(
            InitialAccessToken.token_hash == token_hash(value),
            InitialAccessToken.used_at.is_(None),
            InitialAccessToken.expires_at > now,
        )
        .values(used_at=now)
    )
    if rowcount(result) != 1:
        raise InvalidToken("the initial access token is invalid, used or expired")


def _strings(metadata: Mapping[str, Any], name: str) -> list[str]:
    value = metadata.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadataError(f"{name} must be an array of strings")
    return value


def _optional_str(metadata: Mapping[str, Any], name: str) -> str | None:
    value = metadata.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidClientMetadataError(f"{name} must be a string")
    return value


def register_client(
    session: Session,
    metadata: Mapping[str, Any],
    fetch_sector: SectorFetcher,
    *,
    allow_loopback_targets: bool = False,
) -> dict[str, Any]:
    """Validate RFC 7591 §2 metadata, create the client, return the §3.2.1 response."""
    grant_types = _strings(metadata, "grant_types") or ["authorization_code"]
    if set(grant_types) - {"authorization_code", "refresh_token"}:
        raise InvalidClientMetadataError("only authorization_code and refresh_token grants")
    response_types = _strings(metadata, "response_types") or ["code"]
    if response_types != ["code"]:
        raise InvalidClientMetadataError("only response_type code is supported")
    method = _optional_str(metadata, "token_endpoint_auth_method") or "client_secret_basic"
    sector_uri = _optional_str(metadata, "sector_identifier_uri")
    if sector_uri:
        try:  # validate before fetching it: never fetch what registration would refuse
            validate_uri(
                sector_uri, "sector_identifier_uri", allow_http_loopback=allow_loopback_targets
            )
        except InvalidClientMetadata as exc:
            raise InvalidClientMetadataError(exc.detail) from exc
    # DESIGN.md invariant 4: a public `sub` (the account id) is the same at every platform,
    # so only an operator gives it (`kluis clients add --subject-type public`), never the
    # holder of a registration token
    subject_type = _optional_str(metadata, "subject_type") or "pairwise"
    if subject_type != "pairwise":
        raise InvalidClientMetadataError(
            "subject_type: dynamic registration gives pairwise subject identifiers only; "
            "ask the operator for a public one"
        )
    jwks = metadata.get("jwks")
    if jwks is not None and not isinstance(jwks, dict):
        raise InvalidClientMetadataError("jwks must be a JSON Web Key Set object")
    spec = ClientSpec(
        name=_optional_str(metadata, "client_name") or "",
        redirect_uris=_strings(metadata, "redirect_uris"),
        post_logout_redirect_uris=_strings(metadata, "post_logout_redirect_uris"),
        backchannel_logout_uri=_optional_str(metadata, "backchannel_logout_uri"),
        public=method == "none",
        token_endpoint_auth_method=method,
        subject_type=subject_type,
        sector_identifier_uri=sector_uri,
        sector_redirect_uris=fetch_sector(sector_uri) if sector_uri else None,
        id_token_alg=_optional_str(metadata, "id_token_signed_response_alg") or "RS256",
        jwks=jwks,
        jwks_uri=_optional_str(metadata, "jwks_uri"),
        purpose=_optional_str(metadata, "purpose") or "",
        allow_loopback_targets=allow_loopback_targets,
    )
    try:
        client, secret = create_client(session, spec)
    except InvalidRedirectUri as exc:
        raise InvalidRedirectUriError(exc.detail) from exc
    except InvalidClientMetadata as exc:
        raise InvalidClientMetadataError(exc.detail) from exc
    client.registered_dynamically = True
    record(session, "client.registered", "system", None, {"client": client.client_id})
    body = describe(client)
    body["client_id_issued_at"] = int(client.created_at.timestamp())
    body["grant_types"] = ["authorization_code", "refresh_token"]
    body["response_types"] = ["code"]
    if secret:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = 0
    return body
