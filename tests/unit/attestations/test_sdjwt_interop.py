"""Interoperability with the reference implementation (sd-jwt 0.10.4, jwcrypto underneath)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from attestations.sdjwt import (
    Expired,
    HeldSdJwt,
    KeyBindingExpectation,
    UnreferencedDisclosure,
    VerificationPolicy,
    create_disclosure,
    issue_sd_jwt,
    public_jwk,
    verify_sd_jwt,
)

ISSUER = "https://kluis.example/issuer"
NONCE = "n-0S6_WzA2Mj"
AUDIENCE = "https://platform.example"
HOLDER_KEY = ec.generate_private_key(ec.SECP256R1())
ISSUER_KEYS: dict[str, Any] = {
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "EdDSA": ed25519.Ed25519PrivateKey.generate(),
}
CLAIMS: dict[str, Any] = {
    "iss": ISSUER,
    "vct": "https://kluis.example/postcode-area",
    "exp": int(time.time()) + 3600,
    "postcode_area": "1087",
    "age_over": {"18": True, "65": False},
    "address": {"street": "Kade", "number": 12, "locality": "Amsterdam"},
    "nationalities": ["NL", "DE"],
}
DISCLOSABLE = [
    ("postcode_area",),
    ("age_over", "18"),
    ("age_over", "65"),
    ("address",),
    ("address", "street"),
    ("address", "number"),
    ("nationalities", None),
]
HOLDER_SELECTION = [("postcode_area",), ("address", "street"), ("nationalities", 1)]
EXPECTED = {
    "iss": ISSUER,
    "vct": CLAIMS["vct"],
    "exp": CLAIMS["exp"],
    "postcode_area": "1087",
    "age_over": {},
    "address": {"street": "Kade", "locality": "Amsterdam"},
    "nationalities": ["DE"],
}


def policy(alg: str = "ES256", **overrides: Any) -> VerificationPolicy:
    options: dict[str, Any] = {
        "algorithms": frozenset({alg}),
        "key_binding": KeyBindingExpectation(NONCE, AUDIENCE),
        "required_claims": ("iss", "vct", "exp"),
        "expected_issuer": ISSUER,
    }
    options.update(overrides)
    return VerificationPolicy(**options)


def ours(alg: str = "ES256", max_decoys: int = 3) -> Any:
    return issue_sd_jwt(
        CLAIMS,
        issuer_key=ISSUER_KEYS[alg],
        alg=alg,
        disclosable=DISCLOSABLE,
        holder_key=HOLDER_KEY.public_key(),
        max_decoys=max_decoys,
    )


def reference_key_callback(alg: str) -> Any:
    issuer_public = JWK.from_pyca(ISSUER_KEYS[alg].public_key())

    def callback(issuer: str, header: dict[str, Any]) -> JWK:
        assert issuer == ISSUER
        return issuer_public

    return callback


def without_iat(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k not in ("iat", "cnf")}


@pytest.mark.parametrize("alg", sorted(ISSUER_KEYS))
def test_reference_verifier_accepts_our_presentation_with_key_binding(alg: str) -> None:
    presented = HeldSdJwt.parse(ours(alg).serialize()).present(
        HOLDER_SELECTION, holder_key=HOLDER_KEY, nonce=NONCE, audience=AUDIENCE
    )

    reference = SDJWTVerifier(presented, reference_key_callback(alg), AUDIENCE, NONCE)
    mine = verify_sd_jwt(
        presented,
        key_resolver=lambda header, payload: ISSUER_KEYS[alg].public_key(),
        policy=policy(alg),
    )

    assert reference.get_verified_payload() == mine.claims
    assert without_iat(mine.claims) == EXPECTED


def test_reference_holder_presents_our_credential_to_our_verifier() -> None:
    # No decoys: the reference Holder counts array positions in the payload, decoys included.
    holder = SDJWTHolder(ours(max_decoys=0).serialize())
    holder.create_presentation(
        {"postcode_area": True, "address": {"street": True}, "nationalities": [False, True]},
        NONCE,
        AUDIENCE,
        JWK.from_pyca(HOLDER_KEY),
    )

    result = verify_sd_jwt(
        holder.sd_jwt_presentation,
        key_resolver=lambda header, payload: public_jwk(ISSUER_KEYS["ES256"].public_key()),
        policy=policy(),
    )

    assert without_iat(result.claims) == EXPECTED


def reference_issued(**extra: Any) -> SDJWTIssuer:
    claims = {
        "iss": ISSUER,
        "vct": CLAIMS["vct"],
        "exp": CLAIMS["exp"],
        SDObj("postcode_area"): "1087",
        SDObj("address"): {SDObj("street"): "Kade", "locality": "Amsterdam"},
        "nationalities": [SDObj("NL"), SDObj("DE")],
    }
    return SDJWTIssuer(
        claims,
        JWK.from_pyca(ISSUER_KEYS["ES256"]),
        JWK.from_pyca(HOLDER_KEY.public_key()),
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt"},
        **extra,
    )


def test_our_holder_and_verifier_accept_a_reference_credential() -> None:
    held = HeldSdJwt.parse(reference_issued().sd_jwt_issuance)
    presented = held.present(
        HOLDER_SELECTION, holder_key=HOLDER_KEY, nonce=NONCE, audience=AUDIENCE
    )

    result = verify_sd_jwt(
        presented,
        key_resolver=lambda header, payload: ISSUER_KEYS["ES256"].public_key(),
        policy=policy(),
    )

    assert without_iat(result.claims) == {
        "iss": ISSUER,
        "vct": CLAIMS["vct"],
        "exp": CLAIMS["exp"],
        "postcode_area": "1087",
        "address": {"street": "Kade", "locality": "Amsterdam"},
        "nationalities": ["DE"],
    }
    assert result.holder_jwk is not None
    assert result.holder_jwk["x"] == public_jwk(HOLDER_KEY.public_key())["x"]


def test_our_verifier_accepts_a_reference_presentation() -> None:
    holder = SDJWTHolder(reference_issued().sd_jwt_issuance)
    holder.create_presentation(
        {"address": {"street": True}}, NONCE, AUDIENCE, JWK.from_pyca(HOLDER_KEY)
    )

    result = verify_sd_jwt(
        holder.sd_jwt_presentation,
        key_resolver=lambda header, payload: ISSUER_KEYS["ES256"].public_key(),
        policy=policy(),
    )

    assert result.claims["address"] == {"street": "Kade", "locality": "Amsterdam"}
    assert result.disclosed_paths == (("address",), ("address", "street"))


# --- where this verifier is deliberately stricter than the reference --------------------------


def test_reference_ignores_an_unreferenced_disclosure_that_we_reject() -> None:
    presented = HeldSdJwt.parse(ours().serialize()).present([("postcode_area",)])
    stray = create_disclosure("c2FsdHNhbHRzYWx0c2FsdA", "postcode_area", "9999").encoded
    tampered = presented + stray + "~"

    assert SDJWTVerifier(tampered, reference_key_callback("ES256")).get_verified_payload()
    with pytest.raises(UnreferencedDisclosure):
        verify_sd_jwt(
            tampered,
            key_resolver=lambda header, payload: ISSUER_KEYS["ES256"].public_key(),
            policy=policy(require_key_binding=False),
        )


def test_reference_accepts_an_expired_credential_that_we_reject() -> None:
    issued = issue_sd_jwt(
        {**CLAIMS, "exp": 1_000_000_000}, issuer_key=ISSUER_KEYS["ES256"], disclosable=[]
    )
    presented = issued.serialize()

    assert SDJWTVerifier(presented, reference_key_callback("ES256")).get_verified_payload()
    with pytest.raises(Expired):
        verify_sd_jwt(
            presented,
            key_resolver=lambda header, payload: ISSUER_KEYS["ES256"].public_key(),
            policy=policy(require_key_binding=False),
        )
