"""Discovery (OpenID Connect Discovery 1.0 §4) and dynamic client registration (RFC 7591)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core import AnyJsonBody, InvalidToken, openapi
from identity.oidc.discovery import configuration
from identity.oidc.provider import provider_of
from identity.oidc.registration import (
    InvalidClientMetadataError,
    consume_initial_access_token,
    register_client,
)
from identity.oidc.sector import fetch_sector_uris
from identity.oidc.web import NO_STORE, DbSession

router = APIRouter(tags=["openid-connect"])
OAUTH_PATHS = {"/connect/register"}

REGISTRATION_FIELDS = {
    "redirect_uris": {"type": "array", "items": {"type": "string"}},
    "post_logout_redirect_uris": {"type": "array", "items": {"type": "string"}},
    "client_name": None,
    "token_endpoint_auth_method": openapi.enum("client_secret_basic", "private_key_jwt", "none"),
    "grant_types": {"type": "array", "items": {"type": "string"}},
    "response_types": {"type": "array", "items": {"type": "string"}},
    "jwks_uri": None,
    "jwks": {"type": "object"},
    "sector_identifier_uri": None,
    "subject_type": openapi.enum("pairwise"),
    "backchannel_logout_uri": None,
    "events_uri": None,
}


@router.get("/.well-known/openid-configuration", name="openid_configuration")
def openid_configuration(request: Request) -> JSONResponse:
    return JSONResponse(
        configuration(provider_of(request).config),
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.post(
    "/connect/register",
    name="register_client",
    status_code=201,
    openapi_extra=openapi.json_body(REGISTRATION_FIELDS),
)
def register(request: Request, session: DbSession, metadata: AnyJsonBody) -> JSONResponse:
    """RFC 7591 §3 with an initial access token as bearer."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        raise InvalidToken("an initial access token is required")
    if not isinstance(metadata, dict):
        raise InvalidClientMetadataError("the body must be a JSON object")
    consume_initial_access_token(session, header[7:].strip())
    body = register_client(
        session,
        metadata,
        fetch_sector_uris,
        allow_loopback_targets=not request.app.state.settings.production,
    )
    session.commit()
    return JSONResponse(body, status_code=201, headers=NO_STORE)
