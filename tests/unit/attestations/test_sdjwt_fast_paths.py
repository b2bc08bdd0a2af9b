"""The shortcuts taken for speed (bench/README.md, `sdjwt`) give the same results and refuse the
same inputs as the plain code they replace."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import random
import re
import string
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from attestations.sdjwt import (
    Disclosure,
    ForbiddenClaimName,
    HeldSdJwt,
    InvalidSignature,
    IssuanceError,
    IssuerKeyUnresolved,
    KeyBindingExpectation,
    MalformedDisclosure,
    MalformedSdJwt,
    UnreferencedDisclosure,
    VerificationPolicy,
    create_disclosure,
    decode_disclosure,
    issue_sd_jwt,
    jws,
    public_jwk,
    verify_sd_jwt,
)
from attestations.sdjwt import jwk as jwk_module
from attestations.sdjwt.disclosures import SALT_BYTES, batched_salts, disclosure_json, salt_batch
from attestations.sdjwt.encoding import (
    b64url_decode,
    b64url_encode,
    json_copy,
    json_dumps,
    json_loads,
)
from attestations.sdjwt.jwk import (
    _WEIERSTRASS,
    CURVES,
    cached_public_key,
    key_kind,
    load_public_key,
    minimal_public_jwk,
    on_curve,
    public_key_from_jwk,
)
from attestations.sdjwt.serialization import only_compact_chars

ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
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


# --- issue #14, second round: the same checks with fewer intermediate objects -----------------


def _regex_b64url_decode(text: str) -> bytes | None:
    """The decoder as it was: a regular expression for the alphabet, then strict binascii."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    padded = (text + "=" * (-len(text) % 4)).encode().translate(bytes.maketrans(b"-_", b"+/"))
    try:
        return binascii.a2b_base64(padded, strict_mode=True)
    except binascii.Error:
        return None


def test_base64url_decoding_accepts_and_refuses_what_the_regex_version_did() -> None:
    rng = random.Random(14)
    alphabet = string.ascii_letters + string.digits + "-_+/= .\n\té~"
    samples = ["", "A", "AA", "AAA", "AAAA", "YQ", "YR", "YQ==", "-_-_", "+/+/", "é", "AB\x00"]
    samples += ["".join(rng.choices(alphabet, k=rng.randrange(12))) for _ in range(3000)]
    samples += [b64url_encode(os.urandom(n)) for n in range(40)]
    for text in samples:
        expected = _regex_b64url_decode(text)
        if expected is None:
            with pytest.raises(MalformedSdJwt):
                b64url_decode(text, MalformedSdJwt)
        else:
            assert b64url_decode(text, MalformedSdJwt) == expected, text


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1}',
        ' {"a": 1} ',
        '{"a":1}\n',
        '{"a":1} x',
        '{"a":1}{"b":2}',
        '{"a":1,"a":2}',
        '{"a":{"b":1,"b":1}}',
        "[1, NaN]",
        '{"a": Infinity}',
        "",
        "   ",
        '"\\ud800"',
        "[" * 5000 + "]" * 5000,
        '["salt", "name", {"nested": [1, 2.5, null, true, "é"]}]',
    ],
)
def test_json_parsing_without_decode_reads_and_refuses_as_decode_did(text: str) -> None:
    def reference() -> Any:
        def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            if len(dict(pairs)) != len(pairs):
                raise ValueError("duplicate")
            return dict(pairs)

        def constant(name: str) -> None:
            raise ValueError(name)

        return json.JSONDecoder(object_pairs_hook=unique, parse_constant=constant).decode(text)

    try:
        expected = reference()
    except (ValueError, RecursionError):
        with pytest.raises(MalformedSdJwt):
            json_loads(text, MalformedSdJwt)
        with pytest.raises(MalformedSdJwt):
            json_loads(text.encode("utf-8", "surrogatepass"), MalformedSdJwt)
        return
    assert json_loads(text, MalformedSdJwt) == expected
    assert json_loads(text.encode(), MalformedSdJwt) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2.5, None, True, False, 'é"\n\u2028']},
        {"_sd": ["x", "y"], "cnf": {"jwk": {"kty": "EC"}}, "n": 10**30, "f": 1e-7},
        [],
        "plain",
        {1: "int key", None: "null key", False: "bool key"},
    ],
)
def test_compact_json_is_what_json_dumps_writes(value: Any) -> None:
    assert json_dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_compact_json_refuses_what_json_dumps_refuses_and_stays_usable() -> None:
    for bad in (float("nan"), {"a": float("inf")}, {(1, 2): 3}, object()):
        with pytest.raises((ValueError, TypeError)):
            json_dumps(bad)  # type: ignore[arg-type]
    shared: dict[str, Any] = {"x": 1}
    # the same object twice is no cycle, before and after the failures above
    assert json_dumps({"a": shared, "b": shared}) == '{"a":{"x":1},"b":{"x":1}}'


@pytest.mark.parametrize("value", ['é"\\', 0, -7, 10**40, 2.5, 1e300, True, False, None, [1, {}]])
@pytest.mark.parametrize("name", ["given_name", None, "ü\n"])
def test_disclosure_json_is_what_json_dumps_writes(name: str | None, value: Any) -> None:
    array = ["c2FsdA", value] if name is None else ["c2FsdA", name, value]
    assert disclosure_json("c2FsdA", name, value) == json.dumps(array, ensure_ascii=False)


def test_salt_batches_are_canonical_random_128_bit_salts() -> None:
    seen: set[str] = set()
    last: set[str] = set()
    for count in (1, 2, 5, 6, 7, 13):
        for _ in range(200):
            salts = salt_batch(count)
            assert len(salts) == count
            for salt in salts:
                raw = b64url_decode(salt, MalformedSdJwt)
                assert len(raw) == SALT_BYTES and b64url_encode(raw) == salt  # canonical
                last.add(salt[-1])
            seen.update(salts)
    assert len(seen) == 200 * (1 + 2 + 5 + 6 + 7 + 13)
    assert last == set("AQgw")  # the 2 bits the last character carries take every value
    issued = issue_sd_jwt(
        {"a": 1, "b": 2}, issuer_key=ISSUER_KEY, disclosable=[("a",), ("b",)], iat=NOW
    )
    assert all(len(b64url_decode(d.salt, MalformedSdJwt)) == 16 for d in issued.disclosures)


def _point(key: ec.EllipticCurvePublicKey) -> tuple[int, int]:
    numbers = key.public_numbers()
    return numbers.x, numbers.y


@pytest.mark.parametrize("crv", ["P-256", "P-384", "P-521"])
def test_the_curve_check_agrees_with_openssl(crv: str) -> None:
    curve = CURVES[crv]
    size = (curve.key_size + 7) // 8
    rng = random.Random(crv)
    for _ in range(50):
        x, y = _point(ec.generate_private_key(curve).public_key())
        p = _WEIERSTRASS[curve.name][0]
        for cx, cy in (
            (x, y),
            (x, p - y),  # the negated point is on the curve too
            (x, y ^ 1),
            (x + p, y),  # the same point with x out of range
            (x, y + p),
            (rng.randrange(256**size), rng.randrange(256**size)),
        ):
            if max(cx, cy) >= 256**size:
                continue
            point = b"\x04" + cx.to_bytes(size, "big") + cy.to_bytes(size, "big")
            try:
                ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
                openssl = True
            except ValueError:
                openssl = False
            assert on_curve(crv, cx, cy) is openssl


@pytest.mark.parametrize("crv", ["P-256", "P-384", "P-521"])
def test_a_holder_jwk_is_checked_and_copied_as_loading_and_exporting_it_did(crv: str) -> None:
    key = ec.generate_private_key(CURVES[crv])
    jwk: dict[str, Any] = public_jwk(key.public_key())
    size = len(b64url_decode(jwk["x"], IssuanceError))
    d = key.private_numbers().private_value.to_bytes(size, "big")
    variants: list[Any] = [
        jwk,
        {**jwk, "kid": "k-1", "use": "sig"},
        {**jwk, "d": b64url_encode(d)},  # a private JWK: its public part
        key.public_key(),
        key,
    ]
    for variant in variants:
        expected = public_jwk(load_public_key(variant, IssuanceError))
        assert minimal_public_jwk(variant, IssuanceError) == expected == jwk
    refused = [
        {**jwk, "y": jwk["x"]},  # off the curve
        {**jwk, "x": b64url_encode(b"\x00" * (size - 1))},  # wrong length
        {**jwk, "crv": "P-192"},
        {**jwk, "crv": 256},
        {**jwk, "p": "AQAB"},  # private member without d
        {**jwk, "x": jwk["x"] + "="},
        {k: v for k, v in jwk.items() if k != "y"},
        {**jwk, "x": b64url_encode((2 ** (8 * size) - 1).to_bytes(size, "big"))},  # x >= p
    ]
    for bad in refused:
        with pytest.raises(IssuanceError):
            load_public_key(bad, IssuanceError)
        with pytest.raises(IssuanceError):
            minimal_public_jwk(bad, IssuanceError)


def test_key_kinds_are_remembered_per_class_and_only_for_keys() -> None:
    keys = {
        jwk_module.EC_PRIVATE: ISSUER_KEY,
        jwk_module.EC_PUBLIC: ISSUER_KEY.public_key(),
        jwk_module.ED_PRIVATE: ed25519.Ed25519PrivateKey.generate(),
        jwk_module.ED_PUBLIC: ed25519.Ed25519PrivateKey.generate().public_key(),
        jwk_module.RSA_PRIVATE: RSA_KEY,
        jwk_module.RSA_PUBLIC: RSA_KEY.public_key(),
    }
    for _ in range(2):
        for kind, key in keys.items():
            assert key_kind(key) == kind
    for other in ({"kty": "EC"}, "key", None, b"key"):
        assert key_kind(other) is None
    with pytest.raises(jws.KeyMismatch):
        jws.sign("ES256", ISSUER_KEY.public_key(), b"x")  # type: ignore[arg-type]
    signature = jws.sign("ES256", ISSUER_KEY, b"x")
    assert jws.verify("ES256", ISSUER_KEY.public_key(), b"x", signature)
    with pytest.raises(jws.KeyMismatch):
        jws.verify("ES384", ISSUER_KEY.public_key(), b"x", signature)


def test_the_issuers_protected_header_is_made_for_its_own_alg_typ_and_kid_only() -> None:
    def header_of(**kwargs: Any) -> dict[str, Any]:
        issued = issue_sd_jwt({"a": 1}, issuer_key=ISSUER_KEY, iat=NOW, **kwargs)
        protected = issued.issuer_jwt.split(".")[0]
        parsed = json.loads(b64url_decode(protected, MalformedSdJwt))
        assert parsed == issued.header
        return parsed  # type: ignore[no-any-return]

    for _ in range(2):  # made, then taken from the cache
        assert header_of() == {"alg": "ES256", "typ": "dc+sd-jwt"}
        assert header_of(kid="k1") == {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "k1"}
        assert header_of(kid="k2") == {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "k2"}
        assert header_of(kid="None") == {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "None"}
        assert header_of(typ="example+sd-jwt") == {"alg": "ES256", "typ": "example+sd-jwt"}
        assert header_of(kid="k1", extra_header={"x5u": "https://x.example"}) == {
            "alg": "ES256",
            "typ": "dc+sd-jwt",
            "kid": "k1",
            "x5u": "https://x.example",
        }
    issued = issue_sd_jwt({"a": 1}, issuer_key=ISSUER_KEY, iat=NOW, kid="k1")
    issued.header["kid"] = "changed by a caller"
    assert header_of(kid="k1")["kid"] == "k1"


def test_issued_disclosures_are_made_when_asked_for_and_serialize_the_same() -> None:
    issued = issue_sd_jwt(
        {"a": 1, "b": {"c": [1, 2]}},
        issuer_key=ISSUER_KEY,
        disclosable=[("a",), ("b", "c", None), ("b",)],
        iat=NOW,
    )
    compact = issued.serialize()
    disclosures = issued.disclosures
    assert disclosures is issued.disclosures  # made once
    assert [d.encoded for d in disclosures] == compact.split("~")[1:-1]
    assert all(isinstance(d, Disclosure) for d in disclosures)
    assert [decode_disclosure(d.encoded) for d in disclosures] == list(disclosures)
    assert dataclasses.replace(issued) == issued
    assert dataclasses.replace(issued).serialize() == compact
    with pytest.raises(AttributeError):
        issued.something_else  # noqa: B018


def _presentation(**issue_kwargs: Any) -> tuple[str, ec.EllipticCurvePrivateKey]:
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = issue_sd_jwt(
        {"iss": "https://kluis.example", "name": "Klaas", "age": 50},
        issuer_key=ISSUER_KEY,
        disclosable=[("name",), ("age",)],
        holder_key=public_jwk(holder.public_key()),
        iat=NOW,
        **issue_kwargs,
    )
    presentation = HeldSdJwt.parse(issued.serialize()).present(
        [("name",)], holder_key=holder, nonce="n", audience="a", iat=NOW
    )
    return presentation, holder


POLICY = VerificationPolicy(key_binding=KeyBindingExpectation("n", "a"))


def _resolver(header: dict[str, Any], payload: dict[str, Any]) -> Any:
    return ISSUER_KEY.public_key()


def test_a_failing_disclosure_is_still_reported_after_a_failing_signature() -> None:
    presentation, _ = _presentation()
    jwt, disclosure, *rest = presentation.split("~")
    head, body, _ = jwt.split(".")
    forged_signature = b64url_encode(bytes(64))
    broken_disclosure = b64url_encode(b'["salt", "_sd", 1]')
    unreferenced = b64url_encode(b'["salt", "x", 1]')
    cases = {
        # each fault alone, then with a fault the RFC checks later
        InvalidSignature: f"{head}.{body}.{forged_signature}~{broken_disclosure}~",
        ForbiddenClaimName: f"{jwt}~{broken_disclosure}~",
        UnreferencedDisclosure: f"{jwt}~{disclosure}~{unreferenced}~",
        MalformedDisclosure: f"{jwt}~{b64url_encode(b'not JSON')}~",
    }
    for error, text in cases.items():
        kb = "~".join(rest)
        with pytest.raises(error):
            verify_sd_jwt(text + kb, key_resolver=_resolver, policy=POLICY, now=NOW)
    with pytest.raises(IssuerKeyUnresolved):
        verify_sd_jwt(
            f"{jwt}~{broken_disclosure}~" + "~".join(rest),
            key_resolver=lambda header, payload: None,
            policy=POLICY,
            now=NOW,
        )


def test_recurring_headers_are_parsed_once_and_every_result_has_its_own() -> None:
    presentation, _ = _presentation(kid="cache-test")
    first = verify_sd_jwt(presentation, key_resolver=_resolver, policy=POLICY, now=NOW)
    first.header["kid"] = "changed by a caller"
    first.header["typ"] = "kb+jwt"
    second = verify_sd_jwt(presentation, key_resolver=_resolver, policy=POLICY, now=NOW)
    assert second.header == {"alg": "ES256", "typ": "dc+sd-jwt", "kid": "cache-test"}
    assert second.header is not first.header
    # a header that does not parse is refused each time, and a long one is not kept
    bad = b64url_encode(b'{"alg":"ES256","alg":"none"}')
    long_kid = "k" * 400
    for _ in range(2):
        with pytest.raises(MalformedSdJwt):
            jws.split_compact(f"{bad}.e30.", MalformedSdJwt, cache_header=True)
        long_header = b64url_encode(json.dumps({"alg": "ES256", "kid": long_kid}).encode())
        header, _, _, _ = jws.split_compact(
            f"{long_header}.e30.", MalformedSdJwt, cache_header=True
        )
        assert header["kid"] == long_kid
    assert bad not in jws._headers and long_header not in jws._headers


def test_compact_characters_are_checked_as_the_regular_expression_did() -> None:
    rng = random.Random(9)
    alphabet = string.ascii_letters + string.digits + "-_.~+/= é\n"
    for _ in range(3000):
        text = "".join(rng.choices(alphabet, k=rng.randrange(1, 20)))
        expected = re.fullmatch(r"[A-Za-z0-9_.~-]+", text) is not None
        assert only_compact_chars(text) is expected, text
