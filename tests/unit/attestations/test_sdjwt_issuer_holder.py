"""The Issuer and Holder sides of the SD-JWT library, and what a Verifier gets back."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from attestations.sdjwt import (
    DEFAULT_TYP,
    ClaimNotFound,
    HeldSdJwt,
    IssuanceError,
    KeyBindingExpectation,
    PresentationError,
    VerificationPolicy,
    decode_disclosure,
    issue_sd_jwt,
    public_jwk,
    to_json_serialization,
    verify_sd_jwt,
)

ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_KEY = ec.generate_private_key(ec.SECP256R1())
NOW = 1_800_000_000
NONCE = "a-fresh-nonce"
AUDIENCE = "https://platform.example"
CLAIMS: dict[str, Any] = {
    "iss": "https://kluis.example",
    "exp": NOW + 86400,
    "given_name": "Klaas",
    "address": {"street": "Kade", "postal_code": "1087 AB", "locality": "Amsterdam"},
    "nationalities": ["NL", "BE", "DE"],
}
DISCLOSABLE = [
    ("given_name",),
    ("address",),
    ("address", "postal_code"),
    ("address", "street"),
    ("nationalities", None),
]


def issue(**options: Any) -> Any:
    arguments: dict[str, Any] = {
        "issuer_key": ISSUER_KEY,
        "disclosable": DISCLOSABLE,
        "holder_key": HOLDER_KEY.public_key(),
        "iat": NOW,
    }
    arguments.update(options)
    return issue_sd_jwt(CLAIMS, **arguments)


def verify(text: str, key: Any = None, **overrides: Any) -> Any:
    options: dict[str, Any] = {"key_binding": KeyBindingExpectation(NONCE, AUDIENCE)}
    options.update(overrides)
    public = (key or ISSUER_KEY).public_key()
    return verify_sd_jwt(
        text,
        key_resolver=lambda header, payload: public,
        policy=VerificationPolicy(**options),
        now=NOW,
    )


def present(issued: Any, paths: list[Any]) -> str:
    held = HeldSdJwt.parse(issued.serialize())
    return held.present(paths, holder_key=HOLDER_KEY, nonce=NONCE, audience=AUDIENCE, iat=NOW)


# --- Issuer ----------------------------------------------------------------------------------


def test_salts_are_128_random_bits_and_never_repeat() -> None:
    salts = [d.salt for _ in range(20) for d in issue().disclosures]

    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", salt) for salt in salts)
    assert len(set(salts)) == len(salts)


def test_sd_digests_are_sorted_so_their_order_leaks_nothing() -> None:
    payload = issue(max_decoys=4).payload

    assert payload["_sd"] == sorted(payload["_sd"])
    assert "given_name" not in payload and "address" not in payload


def test_decoys_pad_digests_and_disappear_on_verification() -> None:
    issued = issue(max_decoys=5)
    counts = [len(issue(max_decoys=5).payload["_sd"]) for _ in range(30)]

    assert min(counts) >= 2 and max(counts) > 2
    result = verify(present(issued, [("given_name",), ("address",), ("nationalities", None)]))
    assert result.claims["nationalities"] == ["NL", "BE", "DE"]
    assert result.claims["address"] == {"locality": "Amsterdam"}


def test_recursive_disclosure_hides_member_digests_inside_the_parent() -> None:
    issued = issue()
    address = next(d for d in issued.disclosures if d.name == "address")

    assert isinstance(address.value, dict)
    assert address.value["locality"] == "Amsterdam"
    assert len(address.value["_sd"]) == 2


def test_header_has_typ_alg_and_optional_kid() -> None:
    assert issue().header == {"alg": "ES256", "typ": DEFAULT_TYP}
    assert issue(kid="issuer-2026", typ="example+sd-jwt").header == {
        "alg": "ES256",
        "typ": "example+sd-jwt",
        "kid": "issuer-2026",
    }


def test_cnf_carries_only_the_public_holder_key() -> None:
    scalar = HOLDER_KEY.private_numbers().private_value.to_bytes(32, "big")
    private_jwk = {**public_jwk(HOLDER_KEY.public_key()), "d": _b64(scalar)}

    from_object = issue(holder_key=HOLDER_KEY).payload["cnf"]
    from_jwk = issue(holder_key=private_jwk).payload["cnf"]

    assert from_object == from_jwk == {"jwk": public_jwk(HOLDER_KEY.public_key())}
    assert set(from_jwk["jwk"]) == {"kty", "crv", "x", "y"}
    with pytest.raises(IssuanceError):
        issue(holder_key={**private_jwk, "x": "AAAA"})


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        ("ES384", ec.generate_private_key(ec.SECP384R1())),
        ("RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("EdDSA", ed25519.Ed25519PrivateKey.generate()),
    ],
)
def test_other_algorithms_sign_and_verify_when_allowed(alg: str, key: Any) -> None:
    issued = issue(issuer_key=key, alg=alg)

    result = verify(present(issued, [("given_name",)]), key=key, algorithms=frozenset({alg}))

    assert result.claims["given_name"] == "Klaas"


def test_issuer_key_may_be_a_private_jwk() -> None:
    numbers = ISSUER_KEY.private_numbers()
    jwk = {
        **public_jwk(ISSUER_KEY.public_key()),
        "d": _b64(numbers.private_value.to_bytes(32, "big")),
    }

    assert verify(present(issue(issuer_key=jwk), [])).claims["iss"] == CLAIMS["iss"]


def _private_jwk(key: Any) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        size = (key.key_size + 7) // 8
        return {
            **public_jwk(key.public_key()),
            **{
                name: _b64(v.to_bytes(size, "big"))
                for name, v in (("d", n.d), ("p", n.p), ("q", n.q))
            },
        }
    raw = key.private_bytes_raw()
    return {**public_jwk(key.public_key()), "d": _b64(raw)}


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        ("PS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("EdDSA", ed25519.Ed25519PrivateKey.generate()),
    ],
)
def test_rsa_and_okp_keys_work_as_jwks_for_issuer_and_holder(alg: str, key: Any) -> None:
    issued = issue(issuer_key=_private_jwk(key), alg=alg, holder_key=_private_jwk(key))
    held = HeldSdJwt.parse(issued.serialize())
    presented = held.present(
        [("given_name",)],
        holder_key=_private_jwk(key),
        nonce=NONCE,
        audience=AUDIENCE,
        iat=NOW,
        alg=alg,
    )

    result = verify(
        presented,
        key=key,
        algorithms=frozenset({alg}),
        key_binding=KeyBindingExpectation(NONCE, AUDIENCE, algorithms=frozenset({alg})),
    )

    assert result.holder_jwk == public_jwk(key.public_key())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "options",
    [
        {"disclosable": [("no_such_claim",)]},
        {"disclosable": [()]},
        {"disclosable": [("nationalities", True)]},
        {"alg": "HS256"},
        {"alg": "none"},
        {"alg": "RS256"},
        {"sd_alg": "md5"},
        {"max_decoys": -1},
        {"typ": ""},
        {"extra_header": {"alg": "none"}},
        {"issuer_key": "not a key"},
        {"issuer_key": {"kty": "EC", "crv": "P-256"}},
        {"salt_source": lambda: "the-same-salt-every-time"},
    ],
)
def test_issuer_refuses_invalid_options(options: dict[str, Any]) -> None:
    with pytest.raises(IssuanceError):
        issue(**options)


@pytest.mark.parametrize(
    "claims",
    [
        {"_sd": ["x"]},
        {"address": {"...": "x"}},
        {"_sd_alg": "sha-256"},
        {"when": object()},
        {"ratio": float("nan")},
        {1: "non-string key"},
        {"iat": NOW},
        {"cnf": {"jwk": {}}},
    ],
)
def test_issuer_refuses_claims_it_cannot_encode(claims: dict[Any, Any]) -> None:
    with pytest.raises(IssuanceError):
        issue_sd_jwt(claims, issuer_key=ISSUER_KEY, iat=NOW, holder_key=HOLDER_KEY.public_key())


# --- Holder ----------------------------------------------------------------------------------


def test_selecting_a_member_brings_its_parent_but_not_its_siblings() -> None:
    held = HeldSdJwt.parse(issue().serialize())

    names = [d.name for d in held.select([("address", "postal_code")])]

    assert sorted(names) == ["address", "postal_code"]


def test_selecting_a_parent_does_not_reveal_its_selectively_disclosable_members() -> None:
    result = verify(present(issue(), [("address",)]))

    assert result.claims["address"] == {"locality": "Amsterdam"}


def test_wildcard_selects_every_array_element_and_indices_ignore_decoys() -> None:
    held = HeldSdJwt.parse(issue(max_decoys=5).serialize())

    assert [d.value for d in held.select([("nationalities", None)])] == ["NL", "BE", "DE"]
    assert [d.value for d in held.select([("nationalities", 2)])] == ["DE"]
    assert held.claims["nationalities"] == ["NL", "BE", "DE"]


def test_selecting_a_plaintext_claim_needs_no_disclosure() -> None:
    held = HeldSdJwt.parse(issue().serialize())

    assert held.select([("iss",), ("address", "locality")]) == tuple(
        d for d in held.disclosures if d.name == "address"
    )


@pytest.mark.parametrize("path", [("nope",), ("nationalities", 3), ("address", 0), ()])
def test_selecting_an_unknown_claim_is_an_error(path: Any) -> None:
    with pytest.raises(ClaimNotFound):
        HeldSdJwt.parse(issue().serialize()).select([path])


def test_key_binding_needs_key_nonce_and_audience_together() -> None:
    with pytest.raises(PresentationError):
        HeldSdJwt.parse(issue().serialize()).present([], holder_key=HOLDER_KEY, nonce=NONCE)


def test_kb_jwt_binds_the_exact_presented_sd_jwt() -> None:
    presented = present(issue(), [("given_name",)])
    sd_jwt, kb = presented.rsplit("~", 1)
    header, payload = (json.loads(base64.urlsafe_b64decode(p + "==")) for p in kb.split(".")[:2])
    expected_hash = _b64(hashlib.sha256((sd_jwt + "~").encode()).digest())

    assert header == {"alg": "ES256", "typ": "kb+jwt"}
    assert payload == {"iat": NOW, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": expected_hash}


def test_disclosures_decode_to_salt_name_and_value() -> None:
    disclosure = next(d for d in issue().disclosures if d.name == "given_name")

    assert decode_disclosure(disclosure.encoded) == disclosure


# --- what the Verifier returns ---------------------------------------------------------------


def test_verifier_reports_claims_paths_header_and_holder_key() -> None:
    result = verify(present(issue(max_decoys=3), [("nationalities", 2), ("address", "street")]))

    assert result.claims == {
        "iss": CLAIMS["iss"],
        "exp": CLAIMS["exp"],
        "iat": NOW,
        "address": {"street": "Kade", "locality": "Amsterdam"},
        "nationalities": ["DE"],
        "cnf": {"jwk": public_jwk(HOLDER_KEY.public_key())},
    }
    assert set(result.disclosed_paths) == {
        ("address",),
        ("address", "street"),
        ("nationalities", 0),
    }
    assert result.header["typ"] == DEFAULT_TYP
    assert result.holder_jwk == public_jwk(HOLDER_KEY.public_key())


@pytest.mark.parametrize("general", [False, True])
def test_json_serialization_round_trip(general: bool) -> None:
    presented = present(issue(), [("given_name",)])

    result = verify(to_json_serialization(presented, general=general))

    assert result.claims["given_name"] == "Klaas"


def test_sd_jwt_without_key_binding_for_a_verifier_that_does_not_require_it() -> None:
    presented = HeldSdJwt.parse(issue().serialize()).present([("given_name",)])

    result = verify(presented, require_key_binding=False, key_binding=None)

    assert result.key_binding is None and result.claims["given_name"] == "Klaas"
