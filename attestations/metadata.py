"""Metadata documents: OpenID4VCI Credential Issuer Metadata (§12.2), the OAuth Authorization
Server Metadata of the pre-authorized grant (RFC 8414, OpenID4VCI §12.3), JWT VC Issuer Metadata
(SD-JWT VC §4) and SD-JWT VC Type Metadata (SD-JWT VC §6)."""

from __future__ import annotations

from typing import Any

from attestations.config import PRE_AUTH_GRANT, AttestationConfig
from attestations.credential import PROOF_ALGS
from attestations.types import TYPES, CredentialType
from attestations.vc import ALG, VC_TYP

LANGUAGES = ("nl", "en")
ISSUER_NAME = {"nl": "Kluis", "en": "Kluis"}


def _claim_description(ctype: CredentialType) -> list[dict[str, Any]]:
    return [
        {
            "path": list(spec.path),
            "mandatory": spec.mandatory,
            "display": [{"locale": lang, "name": spec.label[lang]} for lang in LANGUAGES],
        }
        for spec in ctype.all_claims
    ]


def credential_configuration(config: AttestationConfig, ctype: CredentialType) -> dict[str, Any]:
    return {
        "format": VC_TYP,
        "vct": config.vct(ctype.id),
        "scope": f"kluis_{ctype.id}",
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": [ALG],
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": sorted(PROOF_ALGS)}
        },
        "credential_metadata": {
            "display": [
                {
                    "name": ctype.name[lang],
                    "locale": lang,
                    "description": ctype.description[lang],
                }
                for lang in LANGUAGES
            ],
            "claims": _claim_description(ctype),
        },
    }


def credential_issuer_metadata(config: AttestationConfig) -> dict[str, Any]:
    return {
        "credential_issuer": config.issuer,
        "credential_endpoint": f"{config.issuer}/credential",
        "nonce_endpoint": f"{config.issuer}/nonce",
        "batch_credential_issuance": {"batch_size": config.batch_size},
        "display": [{"name": ISSUER_NAME[lang], "locale": lang} for lang in LANGUAGES],
        "credential_configurations_supported": {
            type_id: credential_configuration(config, ctype) for type_id, ctype in TYPES.items()
        },
    }


def authorization_server_metadata(config: AttestationConfig) -> dict[str, Any]:
    """Only what wallets of the pre-authorized flow need; OpenID Connect has its own document."""
    return {
        "issuer": config.issuer,
        "token_endpoint": config.token_endpoint,
        "grant_types_supported": [PRE_AUTH_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
    }


def jwt_vc_issuer_metadata(config: AttestationConfig) -> dict[str, Any]:
    return {"issuer": config.issuer, "jwks_uri": f"{config.issuer}/jwks.json"}


def type_metadata(config: AttestationConfig, ctype: CredentialType) -> dict[str, Any]:
    return {
        "vct": config.vct(ctype.id),
        "name": ctype.name["en"],
        "description": ctype.description["en"],
        "display": [
            {"locale": lang, "name": ctype.name[lang], "description": ctype.description[lang]}
            for lang in LANGUAGES
        ],
        "claims": [
            {
                "path": list(spec.path),
                "display": [{"locale": lang, "label": spec.label[lang]} for lang in LANGUAGES],
                "mandatory": spec.mandatory,
                "sd": "always",
            }
            for spec in ctype.all_claims
        ],
    }
