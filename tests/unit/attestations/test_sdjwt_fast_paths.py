"""The shortcuts taken for speed (bench/README.md, `sdjwt`) give the same results and refuse the
same inputs as the plain code they replace."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from attestations.sdjwt import (
    HeldSdJwt,
    IssuerKeyUnresolved,
    KeyBindingExpectation,
    MalformedSdJwt,
    VerificationPolicy,
    create_disclosure,
    issue_sd_jwt,
    public_jwk,
    verify_sd_jwt,
)
from attestations.sdjwt.disclosures import batched_salts
from attestations.sdjwt.encoding import b64url_decode, b64url_encode, json_copy
from attestations.sdjwt.jwk import cached_public_key, public_key_from_jwk

ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
NOW = 1_800_000_000


def test_base64url_round_trips_like_the_standard_library_and_refuses_padding() -> None:
    for size in range(40):
        data = os.urandom(size)
        encoded = b64url_encode(data)
        assert encoded == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        assert b64url_decode(encoded, MalformedSdJwt) == data
    for bad in ("a", "YQ==", "a+b/", "ab c", "ab\n"):
        with pytest.raises(MalformedSdJwt):
            b64url_decode(bad, MalformedSdJwt)


@pytest.mark.parametrize(
    ("name", "value"),
    [("given_name", 'Kl"aas\n é'), (None, {"k": [1, 2.5, None, True]}), ("n", 3), ("b", False)],
)
def test_disclosure_bytes_are_what_json_dumps_writes(name: str | None, value: Any) -> None:
    array = ["c2FsdA", value] if name is None else ["c2FsdA", name, value]
    disclosure = create_disclosure("c2FsdA", name, value)
    decoded = b64url_decode(disclosure.encoded, MalformedSdJwt).decode()
    assert decoded == json.dumps(array, ensure_ascii=False)


def test_batched_salts_are_unique_128_bit_salts_beyond_one_batch() -> None:
    salt = batched_salts(2)
    salts = [salt() for _ in range(7)]
    assert len(set(salts)) == 7
    assert all(len(b64url_decode(s, MalformedSdJwt)) == 16 for s in salts)


def test_json_copy_is_deep() -> None:
    original: Any = {"a": [{"b": 1}], "c": {"d": [2, "e"]}}
    copied = json_copy(original)
    copied["a"][0]["b"] = 9
    copied["c"]["d"].append(3)
    assert original == {"a": [{"b": 1}], "c": {"d": [2, "e"]}}


def test_cached_public_key_returns_the_key_and_still_refuses_bad_jwks() -> None:
    jwk = public_jwk(ISSUER_KEY.public_key())
    first = cached_public_key(jwk, IssuerKeyUnresolved)
    assert cached_public_key(dict(jwk), IssuerKeyUnresolved) is first
    assert first.public_numbers() == ISSUER_KEY.public_key().public_numbers()
    off_curve = {**jwk, "y": jwk["x"]}
    for bad in (off_curve, {**jwk, "d": jwk["x"]}, {**jwk, "crv": "P-384"}):
        for _ in range(2):  # a refusal is not remembered as a key
            with pytest.raises(IssuerKeyUnresolved):
                cached_public_key(bad, IssuerKeyUnresolved)


def test_verifier_gives_the_resolver_copies_and_resolves_jwks_through_the_cache() -> None:
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = issue_sd_jwt(
        {"iss": "https://kluis.example", "name": "Klaas"},
        issuer_key=ISSUER_KEY,
        disclosable=[("name",)],
        holder_key=holder.public_key(),
        iat=NOW,
    )
    presentation = HeldSdJwt.parse(issued.serialize()).present(
        [("name",)], holder_key=holder, nonce="n", audience="a", iat=NOW
    )
    jwk = public_jwk(ISSUER_KEY.public_key())

    def meddling_resolver(header: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        payload["iss"] = "https://elsewhere.example"
        payload["_sd"].clear()
        return jwk

    policy = VerificationPolicy(
        key_binding=KeyBindingExpectation("n", "a"), expected_issuer="https://kluis.example"
    )
    for _ in range(2):
        verified = verify_sd_jwt(
            presentation, key_resolver=meddling_resolver, policy=policy, now=NOW
        )
        assert verified.claims["name"] == "Klaas"
    assert public_key_from_jwk(jwk, IssuerKeyUnresolved).public_numbers() == (
        ISSUER_KEY.public_key().public_numbers()
    )
