"""The Request Object a wallet fetches from `request_uri` (OpenID4VP 1.0 §5, RFC 9101).

A JWT with `typ: oauth-authz-req+jwt` (§5), signed with Kluis's ES256 key, carrying
`response_type=vp_token`, `response_mode=direct_post` with `response_uri` (§8.2), a fresh
`nonce` and `state`, the DCQL query (§6) and `client_metadata.vp_formats_supported` (§11.1,
§B.3.4). `aud` is `https://self-issued.me/v2` (§5.8, static discovery of the wallet).

Client Identifier: `redirect_uri:<response_uri>` (§5.9.3) for now. That prefix has no way for a
wallet to learn a trusted key, so §5.9.3 says such requests "cannot be signed", and strict
wallets refuse a signed request object under it. The signature is kept because the Kluis test
wallet checks it against `/jwks.json`; interoperable wallets need `x509_san_dns:` (a signed
request with an `x5c` chain), which is still to be built.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from attestations.verifier.config import VerifierConfig
from attestations.verifier.models import VerifierSession
from keys import Keyring

TYP = "oauth-authz-req+jwt"
MEDIA_TYPE = "application/oauth-authz-req+jwt"
ALG = "ES256"
STATIC_WALLET_AUDIENCE = "https://self-issued.me/v2"
VP_FORMATS = {"dc+sd-jwt": {"sd-jwt_alg_values": [ALG], "kb-jwt_alg_values": [ALG]}}


def client_metadata() -> dict[str, Any]:
    return {"vp_formats_supported": VP_FORMATS}


def request_claims(config: VerifierConfig, row: VerifierSession) -> dict[str, Any]:
    return {
        "iss": config.issuer,
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


def sign_request_object(
    session: Session, keyring: Keyring, config: VerifierConfig, row: VerifierSession
) -> str:
    return keyring.sign_jwt(session, request_claims(config, row), ALG, headers={"typ": TYP})
