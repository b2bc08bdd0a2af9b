"""Every rejection of the SD-JWT verifier, each asserting its specific error class.

The presentations are crafted by hand (payloads signed directly), so each test breaks exactly
one rule; ``test_the_untampered_presentation_verifies`` shows the shared setup is valid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import attestations.sdjwt as sdjwt
from attestations.sdjwt import (
    LEEWAY_SECONDS,
    ClaimNameCollision,
    DisclosureKindMismatch,
    DuplicateDigest,
    DuplicateDisclosure,
    Expired,
    ForbiddenClaimName,
    HeldSdJwt,
    InvalidSignature,
    IssuedInFuture,
    IssuerKeyUnresolved,
    KbBadSignature,
    KbIssuedInFuture,
    KbMalformed,
    KbNoHolderKey,
    KbStale,
    KbUnexpected,
    KbUnsupportedAlgorithm,
    KbWrongAudience,
    KbWrongNonce,
    KbWrongSdHash,
    KbWrongType,
    KeyBindingExpectation,
    KeyBindingRequired,
    MalformedDisclosure,
    MalformedSdJwt,
    MissingRequiredClaim,
    NotYetValid,
    SdJwtError,
    UnreferencedDisclosure,
    UnsupportedAlgorithm,
    UnsupportedCriticalHeader,
    UnsupportedSdAlg,
    VerificationPolicy,
    WrongIssuer,
    WrongType,
    create_disclosure,
    create_key_binding_jwt,
    jws,
    public_jwk,
    to_json_serialization,
    verify_sd_jwt,
)

ISSUER = "https://kluis.example"
NONCE = "nonce-4c1e"
AUDIENCE = "x509_san_dns:platform.example"
NOW = 1_800_000_000
MAX_AGE = 300
ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
GIVEN = create_disclosure("c2FsdC1naXZlbi1uYW1lLTE", "given_name", "Jan")
FAMILY = create_disclosure("c2FsdC1mYW1pbHktbmFtZS0", "family_name", "Jansen")
NL = create_disclosure("c2FsdC1uYXRpb25hbGl0eS0", None, "NL")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_disclosure(array_json: str) -> str:
    return b64(array_json.encode())


def digest_of(encoded: str) -> str:
    return b64(hashlib.sha256(encoded.encode()).digest())


def base_payload(**claims: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "iat": NOW - 10,
        "exp": NOW + 3600,
        "_sd": sorted([GIVEN.digest("sha-256"), FAMILY.digest("sha-256")]),
        "nationalities": [{"...": NL.digest("sha-256")}, "DE"],
        "_sd_alg": "sha-256",
        "cnf": {"jwk": public_jwk(HOLDER_KEY.public_key())},
    }
    payload.update(claims)
    return {k: v for k, v in payload.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = ISSUER_KEY, alg: str = "ES256", **header: Any) -> str:
    return jws.encode_compact({"alg": alg, "typ": "dc+sd-jwt", **header}, payload, alg, key)


def kb_jwt(
    sd_jwt: str, key: Any = HOLDER_KEY, alg: str = "ES256", header: Any = None, **claims: Any
) -> str:
    payload: dict[str, Any] = {
        "iat": NOW,
        "aud": AUDIENCE,
        "nonce": NONCE,
        "sd_hash": digest_of(sd_jwt),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jws.encode_compact({"alg": alg, "typ": "kb+jwt", **(header or {})}, payload, alg, key)


def present(jwt: str, disclosures: list[str] | None = None, kb: bool = True, **kb_args: Any) -> str:
    listed = [GIVEN.encoded, NL.encoded] if disclosures is None else disclosures
    sd_jwt = "~".join([jwt, *listed, ""])
    return sd_jwt + (kb_jwt(sd_jwt, **kb_args) if kb else "")


def policy(**overrides: Any) -> VerificationPolicy:
    options: dict[str, Any] = {
        "key_binding": KeyBindingExpectation(NONCE, AUDIENCE, max_age=MAX_AGE),
        "required_claims": ("iss", "exp"),
        "expected_issuer": ISSUER,
    }
    options.update(overrides)
    return VerificationPolicy(**options)


def resolver(header: dict[str, Any], payload: dict[str, Any]) -> Any:
    return ISSUER_KEY.public_key()


def verify(text: str, key_resolver: Any = resolver, **overrides: Any) -> sdjwt.VerifiedSdJwt:
    return verify_sd_jwt(text, key_resolver=key_resolver, policy=policy(**overrides), now=NOW)


def test_the_untampered_presentation_verifies() -> None:
    result = verify(present(sign(base_payload())))

    assert result.claims["given_name"] == "Jan"
    assert "family_name" not in result.claims
    assert result.claims["nationalities"] == ["NL", "DE"]
    assert set(result.disclosed_paths) == {("given_name",), ("nationalities", 0)}
    assert result.key_binding is not None and result.key_binding["nonce"] == NONCE


def test_every_error_has_its_own_stable_code() -> None:
    classes = [c for c in vars(sdjwt).values() if isinstance(c, type) and issubclass(c, SdJwtError)]
    codes = [c.code for c in classes]
    assert len(classes) >= 35
    assert len(set(codes)) == len(codes)


# --- structure -------------------------------------------------------------------------------


def signed_raw_payload(raw: bytes) -> str:
    header = b64(b'{"alg":"ES256","typ":"dc+sd-jwt"}')
    signing_input = f"{header}.{b64(raw)}"
    return f"{signing_input}.{b64(jws.sign('ES256', ISSUER_KEY, signing_input.encode()))}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no-tilde-at-all",
        "eyJ9.e30.c2ln~ ",
        "aGVhZGVy.cGF5bG9hZA~",
        "bm90IGpzb24.e30.c2ln~",
        signed_raw_payload(b"[1, 2]") + "~",
        signed_raw_payload(b'{"iss": "a", "iss": "b"}') + "~",
        signed_raw_payload(b'{"exp": NaN}') + "~",
    ],
    ids=["empty", "no-tilde", "space", "two-part", "header-not-json", "array", "dup-key", "nan"],
)
def test_malformed_text_is_rejected(text: str) -> None:
    with pytest.raises(MalformedSdJwt):
        verify(text, require_key_binding=False, key_binding=None)


def test_empty_disclosure_between_separators_is_rejected() -> None:
    with pytest.raises(MalformedSdJwt):
        verify(sign(base_payload()) + "~~" + GIVEN.encoded + "~", require_key_binding=False)


@pytest.mark.parametrize(
    "claims",
    [
        {"_sd": "not-an-array"},
        {"_sd": [GIVEN.digest("sha-256"), 7]},
        {"address": {"...": GIVEN.digest("sha-256")}},
        {"nationalities": [{"...": NL.digest("sha-256"), "extra": 1}]},
        {"nationalities": [{"...": 42}]},
        {"address": {"_sd_alg": "sha-256"}},
        {"exp": "tomorrow"},
        {"nbf": True},
    ],
    ids=[
        "sd-string",
        "sd-number",
        "ellipsis-in-object",
        "ellipsis-extra",
        "ellipsis-int",
        "nested-sd-alg",
        "exp-string",
        "nbf-bool",
    ],
)
def test_misused_reserved_keys_and_bad_time_claims_are_malformed(claims: dict[str, Any]) -> None:
    with pytest.raises(MalformedSdJwt):
        verify(present(sign(base_payload(**claims)), [GIVEN.encoded]))


def test_hostile_nesting_is_malformed() -> None:
    deep: Any = "x"
    for _ in range(200):
        deep = [deep]
    with pytest.raises(MalformedSdJwt):
        verify(present(sign(base_payload(deep=deep))))


@pytest.mark.parametrize(
    "encoded",
    [
        "A",
        raw_disclosure("not json"),
        raw_disclosure('{"salt": "s"}'),
        raw_disclosure('["only-salt"]'),
        raw_disclosure('["s", "n", "v", "extra"]'),
        raw_disclosure('[1, "name", "v"]'),
        raw_disclosure('["s", 7, "v"]'),
        raw_disclosure('["s", "n", NaN]'),
        raw_disclosure('["s", "n", {"a": 1, "a": 2}]'),
        b64(b"\xff\xfe\xfd"),
    ],
    ids=[
        "bad-b64",
        "not-json",
        "object",
        "one",
        "four",
        "salt-int",
        "name-int",
        "nan",
        "dup-key",
        "not-utf8",
    ],
)
def test_malformed_disclosure_is_rejected(encoded: str) -> None:
    with pytest.raises(MalformedDisclosure):
        verify(present(sign(base_payload(_sd=[digest_of(encoded)])), [encoded]))


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_disclosure_with_reserved_claim_name_is_rejected(name: str) -> None:
    encoded = raw_disclosure(json.dumps(["c2FsdHNhbHRzYWx0", name, ["x"]]))

    with pytest.raises(ForbiddenClaimName):
        verify(present(sign(base_payload(_sd=[digest_of(encoded)])), [encoded]))


# --- the Issuer-signed JWT -------------------------------------------------------------------


def test_alg_none_is_rejected() -> None:
    header = b64(b'{"alg":"none","typ":"dc+sd-jwt"}')
    token = f"{header}.{b64(json.dumps(base_payload()).encode())}."

    with pytest.raises(UnsupportedAlgorithm):
        verify(present(token))


def test_hmac_with_the_public_key_as_secret_is_rejected() -> None:
    secret = ISSUER_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(b'{"alg":"HS256","typ":"dc+sd-jwt"}')
    signing_input = f"{header}.{b64(json.dumps(base_payload()).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()

    with pytest.raises(UnsupportedAlgorithm):
        verify(present(f"{signing_input}.{b64(mac)}"))


@pytest.mark.parametrize("header", [{"alg": "ES384"}, {"alg": None}, {"alg": 256}])
def test_algorithm_outside_the_allow_list_is_rejected(header: dict[str, Any]) -> None:
    jwt_header = b64(json.dumps({"typ": "dc+sd-jwt", **header}).encode())
    token = f"{jwt_header}.{b64(json.dumps(base_payload()).encode())}.c2ln"

    with pytest.raises(UnsupportedAlgorithm):
        verify(present(token))


def test_eddsa_signature_is_rejected_when_only_es256_is_allowed() -> None:
    key = ed25519.Ed25519PrivateKey.generate()

    with pytest.raises(UnsupportedAlgorithm):
        verify(
            present(sign(base_payload(), key, "EdDSA")), key_resolver=lambda h, p: key.public_key()
        )


def test_policy_refuses_to_allow_none_or_hmac_or_unchecked_key_binding() -> None:
    with pytest.raises(ValueError, match="key_binding"):
        VerificationPolicy(require_key_binding=True, key_binding=None)
    with pytest.raises(ValueError, match="not supported"):
        VerificationPolicy(algorithms=frozenset({"ES256", "none"}), require_key_binding=False)
    with pytest.raises(ValueError, match="not supported"):
        VerificationPolicy(algorithms=frozenset({"HS256"}), require_key_binding=False)


def tampered_payload() -> str:
    header, _, signature = sign(base_payload()).split(".")
    forged = base_payload(iss=ISSUER, given_name="Piet")
    return f"{header}.{b64(json.dumps(forged).encode())}.{signature}"


@pytest.mark.parametrize(
    ("token", "key_resolver"),
    [
        (tampered_payload(), resolver),
        (sign(base_payload(), OTHER_KEY), resolver),
        (sign(base_payload()).rsplit(".", 1)[0] + ".", resolver),
        (sign(base_payload()).rsplit(".", 1)[0] + ".c2ln", resolver),
        (sign(base_payload()), lambda h, p: rsa.generate_private_key(65537, 2048).public_key()),
        (sign(base_payload()), lambda h, p: ec.generate_private_key(ec.SECP384R1()).public_key()),
    ],
    ids=["tampered", "other-key", "empty-sig", "short-sig", "rsa-key", "p384-key"],
)
def test_bad_issuer_signature_is_rejected(token: str, key_resolver: Any) -> None:
    with pytest.raises(InvalidSignature):
        verify(present(token), key_resolver=key_resolver)


def unknown_issuer(header: dict[str, Any], payload: dict[str, Any]) -> Any:
    raise LookupError(payload["iss"])


@pytest.mark.parametrize(
    "key_resolver",
    [unknown_issuer, lambda h, p: None, lambda h, p: "not a key", lambda h, p: {"kty": "oct"}],
    ids=["raises", "none", "string", "symmetric-jwk"],
)
def test_unresolvable_issuer_key_is_rejected(key_resolver: Any) -> None:
    with pytest.raises(IssuerKeyUnresolved):
        verify(present(sign(base_payload())), key_resolver=key_resolver)


def test_resolver_may_reject_with_its_own_sd_jwt_error() -> None:
    def only_kluis(header: dict[str, Any], payload: dict[str, Any]) -> Any:
        raise WrongIssuer(payload.get("iss"))

    with pytest.raises(WrongIssuer):
        verify(present(sign(base_payload())), key_resolver=only_kluis)


@pytest.mark.parametrize("typ", ["JWT", None, "example+sd-jwt", "DC+SD-JWT"])
def test_wrong_typ_is_rejected(typ: str | None) -> None:
    token = sign(base_payload(), typ=typ) if typ else _without_typ()

    with pytest.raises(WrongType):
        verify(present(token))


def _without_typ() -> str:
    header = b64(b'{"alg":"ES256"}')
    signing_input = f"{header}.{b64(json.dumps(base_payload()).encode())}"
    return f"{signing_input}.{b64(jws.sign('ES256', ISSUER_KEY, signing_input.encode()))}"


def test_critical_header_is_rejected() -> None:
    with pytest.raises(UnsupportedCriticalHeader):
        verify(present(sign(base_payload(), crit=["exp"], exp=NOW)))


@pytest.mark.parametrize("sd_alg", ["md5", "sha-384", 256, "SHA-256"])
def test_unsupported_or_disallowed_sd_alg_is_rejected(sd_alg: Any) -> None:
    with pytest.raises(UnsupportedSdAlg):
        verify(present(sign(base_payload(_sd_alg=sd_alg)), []))


def test_sha384_digests_verify_when_allowed() -> None:
    payload = base_payload(_sd_alg="sha-384", _sd=[GIVEN.digest("sha-384")], nationalities=[])
    jwt = sign(payload)
    sd_jwt = f"{jwt}~{GIVEN.encoded}~"
    kb = kb_jwt(sd_jwt, sd_hash=b64(hashlib.sha384(sd_jwt.encode()).digest()))

    result = verify(sd_jwt + kb, sd_algs=frozenset({"sha-256", "sha-384"}))

    assert result.claims["given_name"] == "Jan"


# --- digests and disclosures -----------------------------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [
        {"_sd": [GIVEN.digest("sha-256")] * 2},
        {"_sd": [digest_of("decoy")] * 2},
        {"nationalities": [{"...": NL.digest("sha-256")}, {"...": NL.digest("sha-256")}]},
        {"address": {"_sd": [GIVEN.digest("sha-256")]}},
    ],
    ids=["same-sd", "decoy-twice", "same-array", "two-levels"],
)
def test_duplicate_digest_is_rejected(claims: dict[str, Any]) -> None:
    with pytest.raises(DuplicateDigest):
        verify(present(sign(base_payload(**claims))))


def test_digest_repeated_inside_a_disclosure_is_rejected() -> None:
    inner = create_disclosure("c2FsdC1pbm5lci0xMjM0NQ", "street", "Kade")
    address = create_disclosure(
        "c2FsdC1hZGRyZXNzLTEyMzQ", "address", {"_sd": [inner.digest("sha-256")]}
    )
    payload = base_payload(_sd=[address.digest("sha-256"), inner.digest("sha-256")])

    with pytest.raises(DuplicateDigest):
        verify(present(sign(payload), [address.encoded, inner.encoded]))


def test_disclosure_presented_twice_is_rejected() -> None:
    with pytest.raises(DuplicateDisclosure):
        verify(present(sign(base_payload()), [GIVEN.encoded, GIVEN.encoded]))


def test_disclosure_of_another_credential_is_rejected() -> None:
    stranger = create_disclosure("c2FsdC1zdHJhbmdlci0xMjM", "given_name", "Mallory")

    with pytest.raises(UnreferencedDisclosure):
        verify(present(sign(base_payload()), [GIVEN.encoded, stranger.encoded]))


def test_nested_disclosure_without_its_parent_is_rejected() -> None:
    inner = create_disclosure("c2FsdC1pbm5lci0xMjM0NQ", "street", "Kade")
    address = create_disclosure(
        "c2FsdC1hZGRyZXNzLTEyMzQ", "address", {"_sd": [inner.digest("sha-256")]}
    )
    jwt = sign(base_payload(_sd=[address.digest("sha-256")]))

    assert verify(present(jwt, [address.encoded, inner.encoded])).claims["address"] == {
        "street": "Kade"
    }
    with pytest.raises(UnreferencedDisclosure):
        verify(present(jwt, [inner.encoded]))


SECOND_GIVEN = create_disclosure("c2FsdC1vdGhlci0xMjM0NTY", "given_name", "Klaas")
NAMED_SD_ALG = create_disclosure("c2FsdC1hbGctMTIzNDU2Nzg", "_sd_alg", "none")


@pytest.mark.parametrize(
    ("claims", "disclosures"),
    [
        ({"given_name": "Piet"}, [GIVEN.encoded]),
        (
            {"_sd": [GIVEN.digest("sha-256"), SECOND_GIVEN.digest("sha-256")]},
            [GIVEN.encoded, SECOND_GIVEN.encoded],
        ),
        ({"_sd": [NAMED_SD_ALG.digest("sha-256")]}, [NAMED_SD_ALG.encoded]),
    ],
    ids=["plaintext", "two-disclosures", "sd-alg"],
)
def test_disclosed_name_colliding_with_existing_claim_is_rejected(
    claims: dict[str, Any], disclosures: list[str]
) -> None:
    with pytest.raises(ClaimNameCollision):
        verify(present(sign(base_payload(**claims)), disclosures))


def test_array_element_disclosure_referenced_from_sd_is_rejected() -> None:
    with pytest.raises(DisclosureKindMismatch):
        payload = base_payload(_sd=[NL.digest("sha-256")], nationalities=[])
        verify(present(sign(payload), [NL.encoded]))


def test_object_property_disclosure_used_as_array_element_is_rejected() -> None:
    payload = base_payload(nationalities=[{"...": GIVEN.digest("sha-256")}], _sd=[])

    with pytest.raises(DisclosureKindMismatch):
        verify(present(sign(payload), [GIVEN.encoded]))


# --- validity of the processed payload -------------------------------------------------------


def test_expiry_honours_the_leeway() -> None:
    verify(present(sign(base_payload(exp=NOW - LEEWAY_SECONDS + 1))))
    with pytest.raises(Expired):
        verify(present(sign(base_payload(exp=NOW - LEEWAY_SECONDS))))


def test_selectively_disclosed_exp_is_checked_too() -> None:
    exp = create_disclosure("c2FsdC1leHBpcnktMTIzNDU", "exp", NOW - 3600)
    payload = base_payload(exp=None, _sd=[exp.digest("sha-256")])

    with pytest.raises(Expired):
        verify(present(sign(payload), [exp.encoded]))


def test_not_before_honours_the_leeway() -> None:
    verify(present(sign(base_payload(nbf=NOW + LEEWAY_SECONDS))))
    with pytest.raises(NotYetValid):
        verify(present(sign(base_payload(nbf=NOW + LEEWAY_SECONDS + 1))))


def test_issued_in_the_future_is_rejected() -> None:
    verify(present(sign(base_payload(iat=NOW + LEEWAY_SECONDS))))
    with pytest.raises(IssuedInFuture):
        verify(present(sign(base_payload(iat=NOW + LEEWAY_SECONDS + 1))))


def test_missing_required_claim_is_rejected() -> None:
    with pytest.raises(MissingRequiredClaim):
        verify(present(sign(base_payload())), required_claims=("iss", "vct"))


def test_required_claim_left_undisclosed_is_missing() -> None:
    with pytest.raises(MissingRequiredClaim):
        verify(present(sign(base_payload()), [GIVEN.encoded]), required_claims=("family_name",))


def test_unexpected_issuer_is_rejected() -> None:
    with pytest.raises(WrongIssuer):
        verify(present(sign(base_payload(iss="https://evil.example"))))


# --- Key Binding -----------------------------------------------------------------------------


def test_missing_kb_jwt_is_rejected_when_required() -> None:
    with pytest.raises(KeyBindingRequired):
        verify(present(sign(base_payload()), kb=False))


def test_kb_jwt_without_nonce_and_audience_to_check_is_rejected() -> None:
    with pytest.raises(KbUnexpected):
        verify(present(sign(base_payload())), require_key_binding=False, key_binding=None)


def test_holder_refuses_an_issuance_that_carries_a_kb_jwt() -> None:
    with pytest.raises(KbUnexpected):
        HeldSdJwt.parse(present(sign(base_payload())))


def test_kb_jwt_is_checked_even_when_not_required() -> None:
    with pytest.raises(KbWrongNonce):
        verify(present(sign(base_payload()), nonce="replayed"), require_key_binding=False)


@pytest.mark.parametrize(
    "kb_args",
    [{"nonce": None}, {"sd_hash": None}, {"iat": "now"}, {"header": {"crit": ["x"]}}],
    ids=["no-nonce", "no-sd-hash", "iat-string", "crit"],
)
def test_malformed_kb_jwt_is_rejected(kb_args: dict[str, Any]) -> None:
    with pytest.raises(KbMalformed):
        verify(present(sign(base_payload()), **kb_args))


def test_kb_jwt_that_is_not_a_jwt_is_rejected() -> None:
    with pytest.raises(KbMalformed):
        verify(present(sign(base_payload()), kb=False) + "bm90.YS5qd3Q")


@pytest.mark.parametrize(
    "cnf",
    [
        None,
        {"jwk": {**public_jwk(HOLDER_KEY.public_key()), "d": "c2VjcmV0"}},
        {"jwk": {"kty": "oct", "k": "c2VjcmV0"}},
        {"jwk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}},
        {"kid": "holder-key-1"},
        "not-an-object",
    ],
    ids=["no-cnf", "private-jwk", "symmetric", "short-coordinates", "kid-only", "string"],
)
def test_missing_or_unusable_holder_key_is_rejected(cnf: Any) -> None:
    with pytest.raises(KbNoHolderKey):
        verify(present(sign(base_payload(cnf=cnf))))


def test_kb_jwt_with_alg_none_is_rejected() -> None:
    sd_jwt = present(sign(base_payload()), kb=False)
    header = b64(b'{"alg":"none","typ":"kb+jwt"}')
    payload = {"iat": NOW, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": digest_of(sd_jwt)}

    with pytest.raises(KbUnsupportedAlgorithm):
        verify(f"{sd_jwt}{header}.{b64(json.dumps(payload).encode())}.")


def test_kb_jwt_algorithm_outside_its_allow_list_is_rejected() -> None:
    holder = ed25519.Ed25519PrivateKey.generate()
    jwt = sign(base_payload(cnf={"jwk": public_jwk(holder.public_key())}))

    with pytest.raises(KbUnsupportedAlgorithm):
        verify(present(jwt, key=holder, alg="EdDSA"))


@pytest.mark.parametrize(
    "kb_args",
    [{"key": OTHER_KEY}, {"key": ec.generate_private_key(ec.SECP384R1()), "alg": "ES384"}],
    ids=["other-key", "key-does-not-fit-alg"],
)
def test_kb_jwt_not_signed_by_the_holder_key_is_rejected(kb_args: dict[str, Any]) -> None:
    expectation = KeyBindingExpectation(NONCE, AUDIENCE, algorithms=frozenset({"ES256", "ES384"}))

    with pytest.raises(KbBadSignature):
        verify(present(sign(base_payload()), **kb_args), key_binding=expectation)


@pytest.mark.parametrize("typ", ["JWT", "KB+JWT", None])
def test_kb_jwt_with_wrong_typ_is_rejected(typ: str | None) -> None:
    sd_jwt = present(sign(base_payload()), kb=False)
    header = {"alg": "ES256"} if typ is None else {"alg": "ES256", "typ": typ}
    payload = {"iat": NOW, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": digest_of(sd_jwt)}

    with pytest.raises(KbWrongType):
        verify(sd_jwt + jws.encode_compact(header, payload, "ES256", HOLDER_KEY))


@pytest.mark.parametrize("nonce", ["other-nonce", 1234, NONCE.upper()])
def test_kb_jwt_with_wrong_nonce_is_rejected(nonce: Any) -> None:
    with pytest.raises(KbWrongNonce):
        verify(present(sign(base_payload()), nonce=nonce))


@pytest.mark.parametrize("aud", ["https://other.example", [AUDIENCE], 0])
def test_kb_jwt_for_another_audience_is_rejected(aud: Any) -> None:
    with pytest.raises(KbWrongAudience):
        verify(present(sign(base_payload()), aud=aud))


def test_kb_jwt_over_other_disclosures_is_rejected() -> None:
    jwt = sign(base_payload())
    bound = present(jwt, [GIVEN.encoded, FAMILY.encoded])
    kb = bound.rsplit("~", 1)[1]

    with pytest.raises(KbWrongSdHash):
        verify(f"{jwt}~{GIVEN.encoded}~{kb}")


def test_kb_jwt_with_hash_of_the_issuance_is_rejected() -> None:
    jwt = sign(base_payload())
    issuance = f"{jwt}~{GIVEN.encoded}~{FAMILY.encoded}~{NL.encoded}~"

    with pytest.raises(KbWrongSdHash):
        verify(present(jwt, sd_hash=digest_of(issuance)))


def test_kb_jwt_freshness_window() -> None:
    oldest = NOW - MAX_AGE - LEEWAY_SECONDS
    verify(present(sign(base_payload()), iat=oldest))
    with pytest.raises(KbStale):
        verify(present(sign(base_payload()), iat=oldest - 1))
    with pytest.raises(KbStale):
        verify(present(sign(base_payload()), exp=NOW - LEEWAY_SECONDS))


def test_kb_jwt_from_the_future_is_rejected() -> None:
    verify(present(sign(base_payload()), iat=NOW + LEEWAY_SECONDS))
    with pytest.raises(KbIssuedInFuture):
        verify(present(sign(base_payload()), iat=NOW + LEEWAY_SECONDS + 1))
    with pytest.raises(KbIssuedInFuture):
        verify(present(sign(base_payload()), nbf=NOW + LEEWAY_SECONDS + 1))


def test_holder_key_binding_helper_needs_the_complete_sd_jwt() -> None:
    with pytest.raises(sdjwt.PresentationError):
        create_key_binding_jwt(
            sign(base_payload()), holder_key=HOLDER_KEY, nonce=NONCE, audience=AUDIENCE
        )


# --- JWS JSON serialization ------------------------------------------------------------------


def json_document(general: bool = False) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        to_json_serialization(present(sign(base_payload())), general=general)
    )
    return document


def test_json_serializations_verify() -> None:
    for general in (False, True):
        result = verify(json.dumps(json_document(general)))
        assert result.claims["given_name"] == "Jan"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(extra="member"),
        lambda d: d.update(payload=7),
        lambda d: d["header"].update(alg="ES256"),
        lambda d: d.update(header="not-an-object"),
        lambda d: d["header"].update(disclosures="not-a-list"),
        lambda d: d["header"].update(disclosures=[GIVEN.encoded, 5]),
        lambda d: d.update(disclosures=d["header"].pop("disclosures")),
    ],
    ids=[
        "extra-member",
        "payload-int",
        "header-overlap",
        "header-string",
        "disclosures-string",
        "disclosure-int",
        "legacy-layout",
    ],
)
def test_malformed_flattened_json_is_rejected(mutate: Any) -> None:
    document = json_document()
    mutate(document)

    with pytest.raises(MalformedSdJwt):
        verify(json.dumps(document))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(signatures=[]),
        lambda d: d["signatures"][0].update(payload="again"),
        lambda d: d.update(disclosures=[]),
    ],
    ids=["no-signatures", "signature-member", "disclosures-twice"],
)
def test_malformed_general_json_is_rejected(mutate: Any) -> None:
    document = json_document(general=True)
    mutate(document)

    with pytest.raises(MalformedSdJwt):
        verify(json.dumps(document), legacy_json_layout=True)


def test_general_json_with_disclosures_outside_the_first_header_is_rejected() -> None:
    document = json_document(general=True)
    first = document["signatures"][0]
    second = dict(first, header={"disclosures": first["header"].pop("disclosures")})
    document["signatures"].append(second)

    with pytest.raises(MalformedSdJwt):
        verify(json.dumps(document))


def test_general_json_checks_every_signature() -> None:
    document = json_document(general=True)
    forged = dict(document["signatures"][0], header={}, signature=b64(b"\x00" * 64))
    document["signatures"].append(forged)

    with pytest.raises(InvalidSignature):
        verify(json.dumps(document))


def test_json_kb_jwt_must_hash_the_compact_form() -> None:
    document = json_document()
    # What sd-jwt 0.10.4 hashes for JSON: the JSON text instead of the compact SD-JWT.
    document["header"]["kb_jwt"] = kb_jwt(json.dumps(document) + "~")

    with pytest.raises(KbWrongSdHash):
        verify(json.dumps(document))
