"""idpyoidc (IdentityPython's OpenID Connect library, PyPI) as a relying party: its RPHandler,
the high-level API its documentation points RP authors to, configured for a Kluis client that
the operator registered (a static client: Kluis's registration endpoint wants an initial access
token, which idpyoidc's registration service does not send).

It discovers the provider, sends the code flow with PKCE (its `pkce` add-on) and a nonce,
verifies the ID token against Kluis's JWKS itself, calls UserInfo, refreshes and builds the
RP-initiated logout request. The browser half is tests/support/forms.py."""

from __future__ import annotations

from typing import Any

from idpyoidc.client.rp_handler import RPHandler

SERVICES = {
    "discovery": {"class": "idpyoidc.client.oidc.provider_info_discovery.ProviderInfoDiscovery"},
    "authorization": {"class": "idpyoidc.client.oidc.authorization.Authorization"},
    "access_token": {"class": "idpyoidc.client.oidc.access_token.AccessToken"},
    "refresh_access_token": {
        "class": "idpyoidc.client.oidc.refresh_access_token.RefreshAccessToken"
    },
    "userinfo": {"class": "idpyoidc.client.oidc.userinfo.UserInfo"},
    "end_session": {"class": "idpyoidc.client.oidc.end_session.EndSession"},
}
PKCE = {
    "function": "idpyoidc.client.oauth2.add_on.pkce.add_support",
    "kwargs": {"code_challenge_length": 64, "code_challenge_method": "S256"},
}
# The RP's own keys stay in memory (by default RPHandler writes them under ./private, ./static).
RP_KEYS = {"key_defs": [{"type": "RSA", "use": ["sig"]}]}


def rp_handler(
    issuer: str,
    client: dict[str, Any],
    *,
    base_url: str,
    redirect_uri: str,
    post_logout_redirect_uri: str,
    scopes: tuple[str, ...] = ("openid", "email", "profile"),
) -> RPHandler:
    """An RPHandler for one Kluis client (`kluis clients add --json` output)."""
    method = client["token_endpoint_auth_method"]
    config = {
        issuer: {
            "issuer": issuer,
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "redirect_uris": [redirect_uri],
            "post_logout_redirect_uris": [post_logout_redirect_uri],
            "client_type": "oidc",
            "client_authn_methods": [method],
            "preference": {
                "response_types_supported": ["code"],
                "scopes_supported": list(scopes),
                "token_endpoint_auth_methods_supported": [method],
                "id_token_signing_alg_values_supported": ["RS256"],
            },
            "add_ons": {"pkce": PKCE},
            "services": SERVICES,
        }
    }
    return RPHandler(base_url=base_url, client_configs=config, key_conf=RP_KEYS)


def as_dict(message: Any) -> dict[str, Any]:
    """An idpyoidc Message (or a plain value) as JSON-like data."""
    if hasattr(message, "to_dict"):
        return dict(message.to_dict())
    return dict(message)
