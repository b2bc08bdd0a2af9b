"""The SD-JWT library against the reference implementation's test vectors (read in place)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from attestations.sdjwt import (
    HeldSdJwt,
    KbWrongSdHash,
    MalformedSdJwt,
    create_key_binding_jwt,
    issue_sd_jwt,
    verify_sd_jwt,
)
from tests.unit.attestations.test_sdjwt_fixtures import (
    AUDIENCE,
    CASES,
    COMPACT_CASES,
    JSON_CASES,
    NONCE,
    VECTOR_NOW,
    VECTOR_TYP,
    b64_json,
    holder_jwk,
    issuance,
    issuance_disclosures,
    issuer_jwk,
    issuer_resolver,
    presentation,
    presentation_disclosures,
    public,
    read_json,
    seeded_salts,
    selection_paths,
    specification,
    vector_claims,
    vector_policy,
)


def has_key_binding(case: str) -> bool:
    return bool(specification(case).get("key_binding", False))


def verify_vector(text: str, case: str, **overrides: Any) -> Any:
    policy = vector_policy(with_kb=has_key_binding(case), **overrides)
    return verify_sd_jwt(text, key_resolver=issuer_resolver, policy=policy, now=VECTOR_NOW)


# --- (1) the reference presentations verify to the reference output --------------------------


@pytest.mark.parametrize("case", COMPACT_CASES)
def test_reference_presentation_verifies_to_verified_contents(case: str) -> None:
    result = verify_vector(presentation(case), case)

    assert result.claims == read_json(case, "verified_contents.json")
    assert result.header["typ"] == VECTOR_TYP
    if has_key_binding(case):
        assert result.holder_jwk == public(holder_jwk())
        assert result.key_binding == read_json(case, "kb_jwt_payload.json")


def test_disclosed_paths_point_into_the_processed_claims() -> None:
    result = verify_vector(presentation("recursions"), "recursions")

    assert set(result.disclosed_paths) == {
        ("foo", 0),
        ("bar", "green"),
        ("qux", 0),
        ("qux", 0, 0),
        ("baz", 0),
        ("baz", 0, 0),
        ("baz", 1),
        ("baz", 1, 0),
        ("baz", 1, 1),
        ("animals", "snake"),
        ("animals", "snake", "age"),
        ("animals", "bird"),
        ("animals", "bird", "age"),
    }
    assert result.claims["baz"][1][1] == "white"


@pytest.mark.parametrize("case", JSON_CASES)
def test_reference_json_kb_jwt_hashes_the_wrong_input_and_is_rejected(case: str) -> None:
    # sd-jwt 0.10.4 hashes the whole issued JSON text instead of the compact form (RFC 9901 §8.1)
    # and its own verifier skips the sd_hash check for JSON; this verifier does not.
    with pytest.raises(KbWrongSdHash):
        verify_vector(presentation(case), case)


@pytest.mark.parametrize("case", JSON_CASES)
def test_reference_json_presentation_without_kb_verifies(case: str) -> None:
    document = json.loads(presentation(case))
    del document["kb_jwt"]

    result = verify_vector(json.dumps(document), case, require_key_binding=False, key_binding=None)

    assert result.claims == read_json(case, "verified_contents.json")


@pytest.mark.parametrize("case", JSON_CASES)
def test_reference_json_presentation_with_rfc_sd_hash_verifies(case: str) -> None:
    document = json.loads(presentation(case))
    compact = ".".join((document["protected"], document["payload"], document["signature"]))
    sd_jwt = "~".join((compact, *document["disclosures"], ""))
    document["kb_jwt"] = create_key_binding_jwt(
        sd_jwt, holder_key=holder_jwk(), nonce=NONCE, audience=AUDIENCE, iat=VECTOR_NOW
    )

    result = verify_vector(json.dumps(document), case)

    assert result.claims == read_json(case, "verified_contents.json")


@pytest.mark.parametrize("case", JSON_CASES)
def test_reference_json_layout_is_refused_unless_asked_for(case: str) -> None:
    # RFC 9901 §8.1 puts disclosures and kb_jwt in the unprotected header, not at the top level.
    with pytest.raises(MalformedSdJwt):
        verify_vector(presentation(case), case, legacy_json_layout=False)


# --- (2) this issuer and holder reproduce the vectors -----------------------------------------


def issue_like_reference(case: str) -> Any:
    claims, paths = vector_claims(case)
    spec = specification(case)
    return issue_sd_jwt(
        claims,
        issuer_key=issuer_jwk(),
        disclosable=paths,
        typ=VECTOR_TYP,
        holder_key=public(holder_jwk()) if has_key_binding(case) else None,
        salt_source=seeded_salts(),
        extra_header=spec.get("extra_header_parameters"),
    )


def vector_header(case: str) -> Any:
    if case in JSON_CASES:
        return b64_json(json.loads(issuance(case))["protected"])
    return b64_json(issuance(case).split(".")[0])


@pytest.mark.parametrize("case", CASES)
def test_issuer_reproduces_disclosures_payload_and_header_byte_for_byte(case: str) -> None:
    issued = issue_like_reference(case)

    assert [d.encoded for d in issued.disclosures] == issuance_disclosures(case)
    assert issued.payload == read_json(case, "sd_jwt_payload.json")
    assert issued.header == vector_header(case)


@pytest.mark.parametrize("case", CASES)
def test_holder_selects_the_reference_disclosures_and_verifies(case: str) -> None:
    held = HeldSdJwt.parse(issue_like_reference(case).serialize())
    paths = list(selection_paths(specification(case)["holder_disclosed_claims"]))
    binding: dict[str, Any] = {}
    if has_key_binding(case):
        binding = {"holder_key": holder_jwk(), "nonce": NONCE, "audience": AUDIENCE}

    presented = held.present(paths, iat=VECTOR_NOW, **binding) if binding else held.present(paths)
    result = verify_vector(presented, case)

    assert set(presented.split("~")[1:-1]) == set(presentation_disclosures(case))
    assert result.claims == read_json(case, "verified_contents.json")


@pytest.mark.parametrize("case", COMPACT_CASES)
def test_holder_parses_the_reference_issuance(case: str) -> None:
    held = HeldSdJwt.parse(issuance(case))

    expected, _ = vector_claims(case)
    if has_key_binding(case):
        expected["cnf"] = {"jwk": public(holder_jwk())}
    assert held.claims == expected
    assert len(held.disclosures) == len(issuance_disclosures(case))
