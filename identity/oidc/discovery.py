"""OpenID Connect Discovery 1.0 §3 (and RFC 8414 members) for this provider."""

from __future__ import annotations

from typing import Any

from identity.oidc.claims import BY_NAME, SCOPES
from identity.oidc.client_auth import ASSERTION_ALGS
from identity.oidc.clients import AUTH_METHODS, ID_TOKEN_ALGS
from identity.oidc.provider import SUPPORTED_ACRS, OidcConfig


def configuration(config: OidcConfig) -> dict[str, Any]:
    claims = sorted({c for names in SCOPES.values() for c in names} | BY_NAME)
    client_auth = [m for m in AUTH_METHODS if m != "none"]
    return {
        "issuer": config.issuer,
        "authorization_endpoint": config.url("/authorize"),
        "token_endpoint": config.token_endpoint,
        "userinfo_endpoint": config.url("/userinfo"),
        "jwks_uri": config.url("/jwks.json"),
        "registration_endpoint": config.url("/connect/register"),
        "end_session_endpoint": config.url("/logout"),
        "revocation_endpoint": config.url("/revoke"),
        "introspection_endpoint": config.url("/introspect"),
        "scopes_supported": ["openid", "offline_access", *SCOPES, "steward"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGS),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": client_auth,
        "introspection_endpoint_auth_methods_supported": client_auth,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "amr",
            "sid",
            "nonce",
            *claims,
        ],
        "claims_parameter_supported": True,
        "claim_types_supported": ["normal"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": True,
        "acr_values_supported": list(SUPPORTED_ACRS),
        "ui_locales_supported": ["nl", "en"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "service_documentation": config.url("/api/docs"),
    }
