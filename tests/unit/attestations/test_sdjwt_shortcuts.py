"""Issue #14, third round: the byte-level shortcuts give what the plain code gave.

ECDSA signatures converted between DER and JOSE's raw ``r || s`` without Python integers, EC
coordinates decoded in one call, and a Disclosure's JSON written inline by the issuer."""

from __future__ import annotations

import json
import os
import random
import string
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from attestations.sdjwt import (
    Expired,
    HeldSdJwt,
    InvalidSignature,
    IssuanceError,
    IssuerKeyUnresolved,
    KbBadSignature,
    KbMalformed,
    KbNoHolderKey,
    KbWrongType,
    KeyBindingExpectation,
    MalformedSdJwt,
    MissingRequiredClaim,
    UnreferencedDisclosure,
    VerificationPolicy,
    WrongIssuer,
    issue_sd_jwt,
    jws,
    public_jwk,
    verify_sd_jwt,
)
from attestations.sdjwt.encoding import b64url_decode, b64url_encode
from attestations.sdjwt.jwk import (
    CURVES,
    load_public_key,
    minimal_public_jwk,
    public_key_from_jwk,
)

SIZES = {"P-256": 32, "P-384": 48, "P-521": 66}
HASHES = {"P-256": hashes.SHA256(), "P-384": hashes.SHA384(), "P-521": hashes.SHA512()}


def _integers(rng: random.Random, size: int) -> list[int]:
    """Values of r and s that exercise the DER encoding: high bit set or not, leading zero
    bytes, zero, the largest value of ``size`` bytes."""
    bits = 8 * size
    values = [0, 1, 0x7F, 0x80, 0xFF, 2**bits - 1, 2 ** (bits - 1), 2 ** (bits - 1) - 1]
    values += [rng.getrandbits(bits) for _ in range(300)]
    values += [rng.getrandbits(bits) >> rng.randrange(bits) for _ in range(300)]
    return values


@pytest.mark.parametrize("crv", sorted(SIZES))
def test_raw_signatures_become_the_der_encode_dss_signature_writes(crv: str) -> None:
    size = SIZES[crv]
    rng = random.Random(crv)
    values = _integers(rng, size)
    for r in values[:60] + rng.sample(values, 100):
        for s in rng.sample(values, 5):
            raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
            der = encode_dss_signature(r, s)
            assert jws.raw_to_der(raw, size) == der
            assert jws.der_to_raw(der, size) == raw


@pytest.mark.parametrize("crv", sorted(SIZES))
def test_signatures_from_openssl_convert_as_decode_dss_signature_did(crv: str) -> None:
    key = ec.generate_private_key(CURVES[crv])
    size = SIZES[crv]
    for _ in range(200):
        der = key.sign(os.urandom(16), ec.ECDSA(HASHES[crv]))
        r, s = decode_dss_signature(der)
        assert jws.der_to_raw(der, size) == r.to_bytes(size, "big") + s.to_bytes(size, "big")


def test_der_that_is_not_a_signature_is_refused_as_before() -> None:
    good = ec.generate_private_key(ec.SECP256R1()).sign(b"x", ec.ECDSA(hashes.SHA256()))
    for bad in (b"", b"\x30\x00", good[:-1], good + b"\x00", b"\x31" + good[1:]):
        with pytest.raises(ValueError):
            decode_dss_signature(bad)
        with pytest.raises(ValueError):
            jws.der_to_raw(bad, 32)


def _mutations(jwk: dict[str, Any], rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Copies of ``jwk`` with coordinates changed: the last character (the spare bits of a
    P-256 coordinate), a character anywhere (also outside the alphabet), one more or one less,
    or the value not a string."""
    alphabet = string.ascii_letters + string.digits + "-_"
    out: list[dict[str, Any]] = []
    for _ in range(count):
        variant: dict[str, Any] = dict(jwk)
        for member in ("x", "y"):
            if rng.random() < 0.5:
                continue
            chars = list(variant[member])
            kind = rng.randrange(6)
            if kind == 0:
                chars[-1] = rng.choice(alphabet)
            elif kind == 1:
                chars[rng.randrange(len(chars))] = rng.choice(alphabet + "=+/ .é\n")
            elif kind == 2:
                chars.append(rng.choice(alphabet + "="))
            elif kind == 3:
                chars.pop()
            variant[member] = "".join(chars)
            if kind == 4:
                variant[member] = None
            elif kind == 5:
                variant[member] = chars[0]
        out.append(variant)
    return out


def _outcome(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except (IssuanceError, KbNoHolderKey) as exc:
        return (type(exc), str(exc))


def _long_way_point(jwk: dict[str, Any]) -> bytes | None:
    """The holder key's point as it was loaded: each coordinate decoded alone, then OpenSSL
    (which checks the point is on the curve)."""
    try:
        x = b64url_decode(jwk["x"], KbNoHolderKey) if isinstance(jwk.get("x"), str) else None
        y = b64url_decode(jwk["y"], KbNoHolderKey) if isinstance(jwk.get("y"), str) else None
    except KbNoHolderKey:
        return None
    if not x or not y or len(x) != SIZES[jwk["crv"]] or len(y) != len(x):
        return None
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(CURVES[jwk["crv"]], b"\x04" + x + y)
    except ValueError:
        return None
    return b"\x04" + x + y


def _point(jwk: dict[str, Any]) -> bytes | None:
    try:
        key = public_key_from_jwk(jwk, KbNoHolderKey)
    except KbNoHolderKey:
        return None
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


@pytest.mark.parametrize("crv", sorted(SIZES))
def test_holder_jwks_are_checked_copied_and_loaded_as_the_long_way_did(crv: str) -> None:
    jwk = public_jwk(ec.generate_private_key(CURVES[crv]).public_key())
    rng = random.Random(f"jwk-{crv}")
    taken_over = 0
    for variant in [jwk, *_mutations(jwk, rng, 1500)]:
        expected = _outcome(lambda k: public_jwk(load_public_key(k, IssuanceError)), variant)
        assert _outcome(minimal_public_jwk, variant, IssuanceError) == expected, variant
        if isinstance(expected, dict):
            for member in ("x", "y"):  # canonical, whatever the input's spare bits
                decoded = b64url_decode(expected[member], IssuanceError)
                assert b64url_encode(decoded) == expected[member]
            taken_over += expected == variant
        assert _point(variant) == _long_way_point(variant), variant
    assert taken_over > 0


def test_non_canonical_coordinates_are_written_canonically() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwk = public_jwk(key)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    # the last of 43 characters carries 4 bits of the coordinate and 2 spare bits
    spare = alphabet[alphabet.index(jwk["x"][-1]) | 1]
    sloppy = {**jwk, "x": jwk["x"][:-1] + spare}
    assert sloppy != jwk
    assert minimal_public_jwk(sloppy, IssuanceError) == jwk
    loaded = public_key_from_jwk(sloppy, KbNoHolderKey)
    assert loaded.public_numbers() == key.public_numbers()


def test_issued_disclosures_are_what_json_dumps_writes_for_every_kind_of_value() -> None:
    values: dict[str, Any] = {
        "plain": "Amsterdam",
        "escaped": 'Kl"aas\\\n\t\x00 é \u2028 😀',
        "empty": "",
        "yes": True,
        "no": False,
        "none": None,
        "int": 10**30,
        "float": 2.5,
        "nested": {"a": ["b", 1]},
        'ü name "quoted"': "value",
    }
    issued = issue_sd_jwt(
        values,
        issuer_key=ec.generate_private_key(ec.SECP256R1()),
        disclosable=[(name,) for name in values],
        iat=1_800_000_000,
    )
    assert len(issued.disclosures) == len(values)
    for disclosure in issued.disclosures:
        text = b64url_decode(disclosure.encoded, MalformedSdJwt).decode()
        array = [disclosure.salt, disclosure.name, values[str(disclosure.name)]]
        assert text == json.dumps(array, ensure_ascii=False)
        assert disclosure.digest("sha-256") in issued.payload["_sd"]  # type: ignore[operator]


NOW = 1_800_000_000
ISSUER = ec.generate_private_key(ec.SECP256R1())


def _presented(*, holder_binding: bool = True, exp: int = NOW + 3600) -> str:
    holder = ec.generate_private_key(ec.SECP256R1())
    issued = issue_sd_jwt(
        {"iss": "https://kluis.example", "exp": exp, "name": "Klaas", "age": 50},
        issuer_key=ISSUER,
        disclosable=[("name",), ("age",)],
        holder_key=public_jwk(holder.public_key()) if holder_binding else None,
        iat=NOW,
    )
    return HeldSdJwt.parse(issued.serialize()).present(
        [("name",)], holder_key=holder, nonce="n", audience="a", iat=NOW
    )


def _kb_header(presentation: str, header: dict[str, Any]) -> str:
    """The presentation with the KB-JWT's protected header replaced (its signature then fails)."""
    sd_jwt, kb_jwt = presentation.rsplit("~", 1)
    _, body, signature = kb_jwt.split(".")
    protected = b64url_encode(json.dumps(header).encode())
    return f"{sd_jwt}~{protected}.{body}.{signature}"


def test_key_binding_faults_are_reported_after_every_issuer_side_fault() -> None:
    """The claims are checked and the KB-JWT is read before the Issuer signature is checked
    (the two ECDSA verifications then run one after the other), but their faults are raised in
    their turn (RFC 9901 §7.1, §7.3): after the Issuer signature; a KB fault after the
    Disclosures, the validity, required claims and iss."""
    good = _presented()
    sd_jwt, kb_jwt = good.rsplit("~", 1)
    jwt, *disclosures = sd_jwt.split("~")
    head, body, _ = jwt.split(".")
    forged = f"{head}.{body}.{b64url_encode(bytes(64))}~{'~'.join(disclosures)}~"
    unreferenced = b64url_encode(b'["salt", "x", 1]')
    policy = VerificationPolicy(
        key_binding=KeyBindingExpectation("n", "a"),
        required_claims=("iss", "name"),
        expected_issuer="https://kluis.example",
    )
    kb_faults = {
        KbMalformed: "not-a-jws",
        KbWrongType: _kb_header(good, {"alg": "ES256", "typ": "JWT"}).rsplit("~", 1)[1],
        KbBadSignature: kb_jwt[:-4] + ("AAAA" if not kb_jwt.endswith("AAAA") else "BBBB"),
    }
    issuer_faults: dict[type[Exception], tuple[str, VerificationPolicy, float]] = {
        InvalidSignature: (forged, policy, NOW),
        UnreferencedDisclosure: (f"{sd_jwt}~{unreferenced}~", policy, NOW),
        Expired: (sd_jwt + "~", policy, NOW + 10 * 3600),
        MissingRequiredClaim: (
            sd_jwt + "~",
            VerificationPolicy(key_binding=policy.key_binding, required_claims=("age",)),
            NOW,
        ),
        WrongIssuer: (
            sd_jwt + "~",
            VerificationPolicy(key_binding=policy.key_binding, expected_issuer="https://x"),
            NOW,
        ),
    }
    for kb_error, bad_kb in kb_faults.items():
        with pytest.raises(kb_error):  # alone
            verify_sd_jwt(f"{sd_jwt}~{bad_kb}", key_resolver=_issuer, policy=policy, now=NOW)
        for issuer_error, (text, fault_policy, now) in issuer_faults.items():
            with pytest.raises(issuer_error):
                verify_sd_jwt(text + bad_kb, key_resolver=_issuer, policy=fault_policy, now=now)
        with pytest.raises(IssuerKeyUnresolved):
            verify_sd_jwt(
                f"{sd_jwt}~{bad_kb}", key_resolver=lambda h, p: None, policy=policy, now=NOW
            )
    # the claim checks run before the signatures too, and are still reported after them
    strict = VerificationPolicy(
        key_binding=policy.key_binding, required_claims=("age",), expected_issuer="https://x"
    )
    for fault_policy, now in ((policy, NOW + 10 * 3600), (strict, NOW)):
        with pytest.raises(InvalidSignature):
            verify_sd_jwt(forged + kb_jwt, key_resolver=_issuer, policy=fault_policy, now=now)
        with pytest.raises(IssuerKeyUnresolved):
            verify_sd_jwt(good, key_resolver=lambda h, p: None, policy=fault_policy, now=now)
    with pytest.raises(MissingRequiredClaim):  # before iss, as before
        verify_sd_jwt(good, key_resolver=_issuer, policy=strict, now=NOW)
    with pytest.raises(Expired):  # before the required claims
        verify_sd_jwt(good, key_resolver=_issuer, policy=strict, now=NOW + 10 * 3600)
    unbound = _presented(holder_binding=False)
    with pytest.raises(KbNoHolderKey):
        verify_sd_jwt(unbound, key_resolver=_issuer, policy=policy, now=NOW)
    with pytest.raises(Expired):
        verify_sd_jwt(unbound, key_resolver=_issuer, policy=policy, now=NOW + 10 * 3600)
    verified = verify_sd_jwt(good, key_resolver=_issuer, policy=policy, now=NOW)
    assert verified.claims["name"] == "Klaas"
    assert verified.key_binding is not None and verified.key_binding["nonce"] == "n"


def _issuer(header: dict[str, Any], payload: dict[str, Any]) -> Any:
    return ISSUER.public_key()
