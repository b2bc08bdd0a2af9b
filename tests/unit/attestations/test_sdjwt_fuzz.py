"""Property tests: hostile input only ever yields SdJwtError, and honest round trips hold.

The verifier has a last-resort net that turns an unforeseen exception into MalformedSdJwt; these
tests also check that the net is never what catches an input (it would hide a bug).
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attestations.sdjwt import (
    HeldSdJwt,
    KeyBindingExpectation,
    SdJwtError,
    VerificationPolicy,
    VerifiedSdJwt,
    create_disclosure,
    issue_sd_jwt,
    jws,
    to_json_serialization,
    verify_sd_jwt,
)
from attestations.sdjwt.encoding import digest

ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_KEY = ec.generate_private_key(ec.SECP256R1())
NOW = 1_800_000_000
NONCE = "fuzz-nonce"
AUDIENCE = "https://platform.example"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
KB_POLICY = VerificationPolicy(key_binding=KeyBindingExpectation(NONCE, AUDIENCE))
PLAIN_POLICY = VerificationPolicy(require_key_binding=False)


def resolver(header: dict[str, Any], payload: dict[str, Any]) -> Any:
    return ISSUER_KEY.public_key()


def outcome(text: str, policy: VerificationPolicy = KB_POLICY) -> VerifiedSdJwt | SdJwtError:
    try:
        return verify_sd_jwt(text, key_resolver=resolver, policy=policy, now=NOW)
    except SdJwtError as exc:
        assert "could not be processed" not in str(exc), "an input reached the safety net"
        return exc


def _valid_presentation() -> tuple[str, dict[str, Any]]:
    issued = issue_sd_jwt(
        {
            "iss": "https://kluis.example",
            "exp": NOW + 60,
            "address": {"street": "Kade", "locality": "Amsterdam"},
            "nationalities": ["NL", "DE"],
        },
        issuer_key=ISSUER_KEY,
        disclosable=[("address",), ("address", "street"), ("nationalities", None)],
        holder_key=HOLDER_KEY.public_key(),
        iat=NOW,
        max_decoys=2,
    )
    text = HeldSdJwt.parse(issued.serialize()).present(
        [("address", "street"), ("nationalities", 1)],
        holder_key=HOLDER_KEY,
        nonce=NONCE,
        audience=AUDIENCE,
        iat=NOW,
    )
    result = verify_sd_jwt(text, key_resolver=resolver, policy=KB_POLICY, now=NOW)
    return text, result.claims


VALID, VALID_CLAIMS = _valid_presentation()
B64_CHARS = st.sampled_from("ABCDEFGHIJQRSTUVWXYZabcdefghiqrstuvwxyz0123456789-_")
ODD_CHARS = st.sampled_from('.~{}[]",:= \x00é')


@FUZZ
@given(st.text())
def test_arbitrary_text_is_rejected_with_sd_jwt_errors(text: str) -> None:
    assert isinstance(outcome(text), SdJwtError)


@FUZZ
@given(st.text(alphabet="ABCabc019-_.~", max_size=200))
def test_compact_looking_garbage_is_rejected_with_sd_jwt_errors(text: str) -> None:
    assert isinstance(outcome(text), SdJwtError)


def mutate(text: str, edits: list[tuple[str, int, str]]) -> str:
    for kind, position, char in edits:
        index = position % (len(text) + 1)
        if kind == "insert":
            text = text[:index] + char + text[index:]
        elif kind == "replace":
            text = text[:index] + char + text[index + 1 :]
        else:
            text = text[:index] + text[index + 1 :]
    return text


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "replace", "delete"]),
        # Half of the edits land in the Disclosures and KB-JWT, past the Issuer-signed JWT.
        st.integers(0, len(VALID)) | st.integers(VALID.index("~"), len(VALID)),
        B64_CHARS | B64_CHARS | ODD_CHARS,
    ),
    min_size=1,
    max_size=4,
)


@FUZZ
@given(EDITS)
def test_mutated_presentation_never_yields_other_claims(edits: list[tuple[str, int, str]]) -> None:
    result = outcome(mutate(VALID, edits))

    # A mutation can survive only where base64url has unused bits, and must not change claims.
    assert isinstance(result, SdJwtError) or result.claims == VALID_CLAIMS


@FUZZ
@given(
    st.sampled_from(["payload", "protected", "signature", "header", "extra"]),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=8,
    ),
)
def test_mutated_json_serialization_is_rejected(member: str, value: Any) -> None:
    document = json.loads(to_json_serialization(VALID))
    document[member] = value

    assert isinstance(outcome(json.dumps(document)), SdJwtError)


# --- signed payloads full of embedded digests --------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "d", "_sd", "_sd", "...", "_sd_alg", "exp", "nbf", "cnf"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)


class Ref(int):
    """A placeholder leaf, replaced by the digest of one of the crafted disclosures."""


STRUCTURES = st.recursive(
    SCALARS | st.integers(0, 7).map(Ref),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(KEYS, inner, max_size=4)
        | st.builds(lambda r: {"...": r}, st.integers(0, 7).map(Ref))
    ),
    max_leaves=12,
)
TOP_KEYS = st.sampled_from(["a", "b", "_sd", "...", "exp", "iat", "cnf"])
NAMES = st.none() | st.sampled_from(["a", "b", "exp", "iss"])
RAW_DISCLOSURES = st.tuples(st.text(alphabet="abc", min_size=1, max_size=3), NAMES, STRUCTURES)


def resolve_refs(value: Any, digests: list[str]) -> Any:
    if isinstance(value, Ref):
        return digests[value % len(digests)]
    if isinstance(value, dict):
        return {k: resolve_refs(v, digests) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, digests) for v in value]
    return value


def disclose(raw: tuple[str, str | None, Any], digests: list[str]) -> str:
    salt, name, value = raw
    return create_disclosure(salt, name, resolve_refs(value, digests)).encoded


@st.composite
def crafted_presentations(draw: st.DrawFn) -> str:
    decoys = [digest(f"decoy-{i}", "sha-256") for i in range(3)]
    first = [disclose(raw, decoys) for raw in draw(st.lists(RAW_DISCLOSURES, max_size=4))]
    inner = [digest(d, "sha-256") for d in first] or decoys
    second = [disclose(raw, inner) for raw in draw(st.lists(RAW_DISCLOSURES, max_size=2))]
    every = first + second
    payload = resolve_refs(
        draw(st.dictionaries(TOP_KEYS, STRUCTURES, max_size=6)),
        [digest(d, "sha-256") for d in every] + decoys,
    )
    jwt = jws.encode_compact({"alg": "ES256", "typ": "dc+sd-jwt"}, payload, "ES256", ISSUER_KEY)
    unique = draw(st.booleans()) or draw(st.booleans())
    presented = draw(st.lists(st.sampled_from(every), max_size=6, unique=unique)) if every else []
    return "~".join([jwt, *presented, ""])


def reserved_keys_in(value: Any) -> bool:
    if isinstance(value, dict):
        return bool({"_sd", "...", "_sd_alg"} & set(value)) or any(
            reserved_keys_in(v) for v in value.values()
        )
    if isinstance(value, list):
        return any(reserved_keys_in(v) for v in value)
    return False


@FUZZ
@given(crafted_presentations())
def test_crafted_payloads_and_disclosures_only_raise_sd_jwt_errors(text: str) -> None:
    result = outcome(text, PLAIN_POLICY)

    if not isinstance(result, SdJwtError):
        assert not reserved_keys_in(result.claims)
        for path in result.disclosed_paths:
            node: Any = result.claims
            for step in path:
                node = node[step]


# --- honest round trips ----------------------------------------------------------------------

CLAIM_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet="abxyz", min_size=1, max_size=2), inner, max_size=3)
    ),
    max_leaves=10,
)


def all_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    found = []
    for step, child in children:
        found.append((*path, step))
        found += all_paths(child, (*path, step))
    return found


def expected_view(value: Any, sd: set[Any], selected: list[Any], path: tuple[Any, ...]) -> Any:
    """The model: an SD claim survives only if a selected path runs through it."""

    def shown(p: tuple[Any, ...]) -> bool:
        return p not in sd or any(s[: len(p)] == p for s in selected)

    if isinstance(value, dict):
        return {
            k: expected_view(v, sd, selected, (*path, k))
            for k, v in value.items()
            if shown((*path, k))
        }
    if isinstance(value, list):
        return [
            expected_view(v, sd, selected, (*path, i))
            for i, v in enumerate(value)
            if shown((*path, i))
        ]
    return value


@FUZZ
@given(st.dictionaries(st.text(alphabet="abxyz", min_size=1, max_size=2), CLAIM_VALUES), st.data())
def test_issue_present_verify_round_trip_matches_the_model(
    claims: dict[str, Any], data: st.DataObject
) -> None:
    paths = all_paths(claims)
    sd = data.draw(st.sets(st.sampled_from(paths))) if paths else set()
    selected = data.draw(st.lists(st.sampled_from(paths), max_size=4)) if paths else []
    issued = issue_sd_jwt(
        claims,
        issuer_key=ISSUER_KEY,
        disclosable=sorted(sd, key=repr),
        holder_key=HOLDER_KEY.public_key(),
        iat=NOW,
        max_decoys=data.draw(st.integers(0, 3)),
    )
    presented = HeldSdJwt.parse(issued.serialize()).present(
        selected, holder_key=HOLDER_KEY, nonce=NONCE, audience=AUDIENCE, iat=NOW
    )

    result = verify_sd_jwt(presented, key_resolver=resolver, policy=KB_POLICY, now=NOW)

    expected = expected_view(claims, sd, selected, ())
    assert {k: v for k, v in result.claims.items() if k not in ("iat", "cnf")} == expected
