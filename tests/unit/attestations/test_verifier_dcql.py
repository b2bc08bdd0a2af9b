"""DCQL (OpenID4VP 1.0 §6, §7): validating platform queries and matching presented claims."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from attestations.verifier.dcql import (
    NoMatch,
    check_credential_sets,
    parse_query,
    requested_claims,
    select,
)
from attestations.verifier.errors import InvalidDcqlQuery
from attestations.verifier.session import known_types
from identity.oidc.pseudonyms import poll_pseudonym

ISSUER = "https://kluis.example"
POSTCODE = f"{ISSUER}/vct/postcode"
AGE = f"{ISSUER}/vct/age"
KNOWN = known_types(ISSUER)
CLAIMS = {
    "postcode": "1087AB",
    "postcode_area": "1087",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "registry",
}


def credential(**extra: Any) -> dict[str, Any]:
    query: dict[str, Any] = {
        "id": "residence",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [POSTCODE]},
        "claims": [{"path": ["postcode_area"]}],
    }
    query.update(extra)
    return {k: v for k, v in query.items() if v is not None}


def query(*credentials: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"credentials": list(credentials or [credential()]), **extra}


# --- validation ------------------------------------------------------------------------------


def test_a_simple_query_parses() -> None:
    parsed = parse_query(query(), KNOWN)

    [only] = parsed.credentials
    assert only.id == "residence" and only.vct_values == (POSTCODE,)
    assert only.claims is not None and only.claims[0].path == ("postcode_area",)
    assert not only.multiple and parsed.credential_sets is None


def test_unknown_properties_are_ignored() -> None:
    raw = query(credential(future_extension={"x": 1}), also_future=True)

    assert parse_query(raw, KNOWN).credentials[0].id == "residence"


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ([], ""),
        ({}, "/credentials"),
        ({"credentials": []}, "/credentials"),
        (query(credential(id="has space")), "/credentials/0/id"),
        (query(credential(), credential()), "/credentials"),
        (query(credential(format="jwt_vc_json")), "/credentials/0/format"),
        (query(credential(meta=None)), "/credentials/0/meta"),
        (query(credential(meta={"vct_values": []})), "/credentials/0/meta/vct_values"),
        (
            query(credential(meta={"vct_values": ["https://other.example/vct/x"]})),
            "/credentials/0/meta/vct_values/0",
        ),
        (
            query(credential(require_cryptographic_holder_binding=False)),
            "/credentials/0/require_cryptographic_holder_binding",
        ),
        (query(credential(multiple="yes")), "/credentials/0/multiple"),
        (
            query(credential(trusted_authorities=[{"type": "aki", "values": ["x"]}])),
            "/credentials/0/trusted_authorities",
        ),
        (query(credential(claims=[])), "/credentials/0/claims"),
        (query(credential(claims=[{"path": []}])), "/credentials/0/claims/0/path"),
        (query(credential(claims=[{"path": ["a", -1]}])), "/credentials/0/claims/0/path/1"),
        (query(credential(claims=[{"path": [True]}])), "/credentials/0/claims/0/path/0"),
        (query(credential(claims=[{"path": [1.5]}])), "/credentials/0/claims/0/path/0"),
        (query(credential(claims=[{"path": ["postcode_aera"]}])), "/credentials/0/claims/0/path"),
        (query(credential(claims=[{"path": ["age_over_18"]}])), "/credentials/0/claims/0/path"),
        (
            query(credential(claims=[{"path": ["postcode"]}, {"path": ["postcode"]}])),
            "/credentials/0/claims",
        ),
        (
            query(credential(claims=[{"path": ["postcode"], "values": [{"a": 1}]}])),
            "/credentials/0/claims/0/values/0",
        ),
        (query(credential(claims=None, claim_sets=[["a"]])), "/credentials/0/claim_sets"),
        (
            query(credential(claims=[{"path": ["postcode"]}], claim_sets=[["a"]])),
            "/credentials/0/claims/0/id",
        ),
        (
            query(credential(claims=[{"id": "a", "path": ["postcode"]}], claim_sets=[["b"]])),
            "/credentials/0/claim_sets/0/0",
        ),
        (
            query(credential(claims=[{"id": "a", "path": ["postcode"]}], claim_sets=[[]])),
            "/credentials/0/claim_sets/0",
        ),
        (query(credential_sets=[{"options": [["nope"]]}]), "/credential_sets/0/options/0/0"),
        (query(credential_sets=[{"options": []}]), "/credential_sets/0/options"),
        (
            query(credential_sets=[{"options": [["residence"]], "required": 1}]),
            "/credential_sets/0",
        ),
    ],
)
def test_invalid_queries_name_the_offending_member(raw: Any, pointer: str) -> None:
    with pytest.raises(InvalidDcqlQuery) as caught:
        parse_query(raw, KNOWN)

    assert caught.value.status_code == 422
    assert str(caught.value.extensions["pointer"]).startswith(pointer)


def test_claim_and_credential_sets_parse() -> None:
    age = credential(
        id="age",
        meta={"vct_values": [AGE]},
        claims=[{"id": "a18", "path": ["age_over_18"]}, {"id": "a21", "path": ["age_over_21"]}],
        claim_sets=[["a21"], ["a18"]],
    )
    raw = query(credential(), age, credential_sets=[{"options": [["residence"], ["age"]]}])

    parsed = parse_query(raw, KNOWN)

    assert [len(o) for o in parsed.credentials[1].claim_options()] == [1, 1]
    assert parsed.credential_sets is not None and parsed.credential_sets[0].required


# --- claims path pointers (§7.1) --------------------------------------------------------------


def test_claims_path_pointers_select_keys_indexes_and_all_elements() -> None:
    claims = {"a": {"b": 1}, "list": [{"x": 1}, {"y": 2}, {"x": 3}]}

    assert select(claims, ("a", "b")) == [1]
    assert select(claims, ("list", None, "x")) == [1, 3]
    assert select(claims, ("list", 1)) == [{"y": 2}]
    assert select(claims, ("list", 7)) == []
    assert select(claims, ("missing",)) == []
    assert select(claims, ("a", "b", "c")) == []  # not an object: an error, nothing selected


# --- matching --------------------------------------------------------------------------------


def parsed_credential(**extra: Any) -> Any:
    return parse_query(query(credential(**extra)), KNOWN).credentials[0]


def test_only_the_requested_claims_are_kept() -> None:
    assert requested_claims(parsed_credential(), POSTCODE, CLAIMS) == {"postcode_area": "1087"}


def test_nested_claims_keep_their_nesting_without_siblings() -> None:
    wanted = parsed_credential(claims=[{"path": ["municipality", "name"]}])

    assert requested_claims(wanted, POSTCODE, CLAIMS) == {"municipality": {"name": "Amsterdam"}}


def test_a_query_without_claims_releases_no_claims() -> None:
    assert requested_claims(parsed_credential(claims=None), POSTCODE, CLAIMS) == {}


def test_missing_claims_or_another_type_do_not_match() -> None:
    wanted = parsed_credential(claims=[{"path": ["postcode_area"]}, {"path": ["postcode"]}])
    partial = {k: v for k, v in CLAIMS.items() if k != "postcode"}

    with pytest.raises(NoMatch, match="cover"):
        requested_claims(wanted, POSTCODE, partial)
    with pytest.raises(NoMatch, match="vct"):
        requested_claims(wanted, AGE, CLAIMS)


def test_claim_sets_take_the_first_option_the_presentation_satisfies() -> None:
    wanted = parsed_credential(
        claims=[{"id": "area", "path": ["postcode_area"]}, {"id": "full", "path": ["postcode"]}],
        claim_sets=[["full"], ["area"]],
    )

    assert requested_claims(wanted, POSTCODE, CLAIMS) == {"postcode": "1087AB"}
    only_area = {"postcode_area": "1087"}
    assert requested_claims(wanted, POSTCODE, only_area) == {"postcode_area": "1087"}
    with pytest.raises(NoMatch):
        requested_claims(wanted, POSTCODE, {"residence_source": "letter"})


def test_values_must_match_in_type_and_value() -> None:
    area = parsed_credential(claims=[{"path": ["postcode_area"], "values": ["1087", "1088"]}])
    age = parse_query(
        query(
            credential(
                meta={"vct_values": [AGE]}, claims=[{"path": ["age_over_18"], "values": [1]}]
            )
        ),
        KNOWN,
    ).credentials[0]

    assert requested_claims(area, POSTCODE, CLAIMS) == {"postcode_area": "1087"}
    with pytest.raises(NoMatch):
        requested_claims(area, POSTCODE, {**CLAIMS, "postcode_area": "1011"})
    with pytest.raises(NoMatch):
        requested_claims(age, AGE, {"age_over_18": True})  # True is not the integer 1


def test_matching_never_changes_the_presented_claims() -> None:
    before = copy.deepcopy(CLAIMS)
    requested_claims(
        parsed_credential(claims=[{"path": ["municipality", "code"]}]), POSTCODE, CLAIMS
    )
    assert before == CLAIMS


def test_credential_sets_require_one_option_of_each_required_set() -> None:
    raw = query(
        credential(),
        credential(id="age", meta={"vct_values": [AGE]}, claims=[{"path": ["age_over_18"]}]),
        credential_sets=[
            {"options": [["residence"]]},
            {"options": [["age"]], "required": False},
        ],
    )
    parsed = parse_query(raw, KNOWN)

    check_credential_sets(parsed, ["residence"])
    with pytest.raises(NoMatch, match="credential_sets"):
        check_credential_sets(parsed, ["age"])
    without_sets = parse_query({**raw, "credential_sets": None}, KNOWN)
    with pytest.raises(NoMatch, match="age"):
        check_credential_sets(without_sets, ["residence"])


# --- per-poll pseudonyms ---------------------------------------------------------------------


def test_poll_pseudonyms_differ_per_poll_sector_key_and_server_key() -> None:
    key, other_key = b"k" * 32, b"o" * 32
    base = poll_pseudonym(key, "buurt.example.nl", "poll-1", "thumb-a")

    assert base == poll_pseudonym(key, "buurt.example.nl", "poll-1", "thumb-a")
    variants = {
        poll_pseudonym(key, "buurt.example.nl", "poll-2", "thumb-a"),
        poll_pseudonym(key, "ander.example.nl", "poll-1", "thumb-a"),
        poll_pseudonym(key, "buurt.example.nl", "poll-1", "thumb-b"),
        poll_pseudonym(other_key, "buurt.example.nl", "poll-1", "thumb-a"),
        # the separator keeps "a" + "b\0c" apart from "a\0b" + "c"
        poll_pseudonym(key, "buurt.example.nl\x00poll", "1", "thumb-a"),
    }
    assert base not in variants and len(variants) == 5
