"""The Request Object a wallet fetches from `request_uri` (OpenID4VP 1.0 §5, RFC 9101).

A JWT with `typ: oauth-authz-req+jwt` (§5), carrying `response_type=vp_token`,
`response_mode=direct_post` with `response_uri` (§8.2), a fresh `nonce` and `state`, the DCQL
query (§6) and `client_metadata.vp_formats_supported` (§11.1, §B.3.4). `aud` is
`https://self-issued.me/v2` (§5.8, static discovery of the wallet).

How it is secured follows the Client Identifier prefix (§5.9.3):
- `x509_san_dns:<host>`: signed ES256 with the configured key, the certificate chain in the
  `x5c` header; the wallet validates the chain and that `<host>` is a dNSName SAN of the leaf.
- `redirect_uri:<response_uri>` (development): the wallet has no way to learn a trusted key,
  so §5.9.3 says such requests "cannot be signed": the object is an unsecured JWT
  (RFC 7519 §6, `alg: none`) and strict wallets refuse a signed one.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Protocol

import jwt

from attestations.verifier.config import VerifierConfig
from attestations.verifier.models import VerifierSession
from core import b64url

TYP = "oauth-authz-req+jwt"
MEDIA_TYPE = "application/oauth-authz-req+jwt"
ALG = "ES256"
STATIC_WALLET_AUDIENCE = "https://self-issued.me/v2"
VP_FORMATS = {"dc+sd-jwt": {"sd-jwt_alg_values": [ALG], "kb-jwt_alg_values": [ALG]}}


class RequestedSession(Protocol):
    """What a request object is made of: a `VerifierSession`, or its `REQUEST_COLUMNS` read
    without the ORM."""

    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def expires_at(self) -> dt.datetime: ...
    @property
    def nonce(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def dcql_query(self) -> dict[str, Any]: ...


REQUEST_COLUMNS = (
    VerifierSession.created_at,
    VerifierSession.expires_at,
    VerifierSession.nonce,
    VerifierSession.state,
    VerifierSession.dcql_query,
)


def client_metadata() -> dict[str, Any]:
    return {"vp_formats_supported": VP_FORMATS}


def request_claims(config: VerifierConfig, row: RequestedSession) -> dict[str, Any]:
    return {
        "iss": config.client_id,  # RFC 9101 §4: the client_id
        "aud": STATIC_WALLET_AUDIENCE,
        "iat": int(row.created_at.timestamp()),
        "exp": int(row.expires_at.timestamp()),
        "client_id": config.client_id,
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": config.response_uri,
        "nonce": row.nonce,
        "state": row.state,
        "dcql_query": row.dcql_query,
        "client_metadata": client_metadata(),
    }


def unsecured_jwt(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """RFC 7519 §6.1: header and claims, and an empty signature."""
    parts = (json.dumps(p, separators=(",", ":")).encode() for p in (header, claims))
    return ".".join(b64url(part) for part in parts) + "."


def request_object(config: VerifierConfig, row: RequestedSession) -> str:
    claims = request_claims(config, row)
    if config.signer is None:
        return unsecured_jwt({"alg": "none", "typ": TYP}, claims)
    headers = {"typ": TYP, "x5c": config.signer.x5c}
    return jwt.encode(claims, config.signer.key, algorithm=ALG, headers=headers)
