"""Conversion between JWKs (RFC 7517/7518/8037) and ``cryptography`` key objects.

Only the key types the JWS algorithms of this library use: EC P-256/P-384/P-521, RSA and
OKP Ed25519. Parsing is strict about member types and coordinate lengths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from attestations.sdjwt.encoding import JsonObject, b64url_decode, b64url_encode
from attestations.sdjwt.errors import SdJwtError

PublicKey: TypeAlias = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_CURVE_NAMES = {curve.name: name for name, curve in CURVES.items()}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")


def _member(jwk: Mapping[str, Any], name: str, error: type[SdJwtError]) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise error(f"JWK member {name!r} missing or not a string")
    return b64url_decode(value, error)


def _int(jwk: Mapping[str, Any], name: str, error: type[SdJwtError]) -> int:
    return int.from_bytes(_member(jwk, name, error), "big")


def _ec_public_numbers(
    jwk: Mapping[str, Any], error: type[SdJwtError]
) -> ec.EllipticCurvePublicNumbers:
    crv = jwk.get("crv")
    curve = CURVES.get(crv) if isinstance(crv, str) else None
    if curve is None:
        raise error("unsupported EC curve")
    size = (curve.key_size + 7) // 8
    x, y = _member(jwk, "x", error), _member(jwk, "y", error)
    if len(x) != size or len(y) != size:
        raise error("EC coordinates have the wrong length")
    return ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve)


def public_key_from_jwk(jwk: Mapping[str, Any], error: type[SdJwtError]) -> PublicKey:
    """Load a public key from a JWK; a JWK with private members is refused."""
    if not isinstance(jwk, Mapping):
        raise error("JWK is not an object")
    if any(name in jwk for name in _PRIVATE_MEMBERS):
        raise error("JWK contains private key material")
    try:
        kty = jwk.get("kty")
        if kty == "EC":
            return _ec_public_numbers(jwk, error).public_key()
        if kty == "RSA":
            return rsa.RSAPublicNumbers(_int(jwk, "e", error), _int(jwk, "n", error)).public_key()
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            return ed25519.Ed25519PublicKey.from_public_bytes(_member(jwk, "x", error))
    except ValueError as exc:  # point not on curve, bad RSA numbers, wrong Ed25519 length
        raise error("invalid JWK") from exc
    raise error("unsupported JWK key type")


def _private_key_from_jwk(jwk: Mapping[str, Any], error: type[SdJwtError]) -> PrivateKey:
    kty = jwk.get("kty")
    if kty == "EC":
        public = _ec_public_numbers(jwk, error)
        return ec.EllipticCurvePrivateNumbers(_int(jwk, "d", error), public).private_key()
    if kty == "RSA":
        p, q, d = _int(jwk, "p", error), _int(jwk, "q", error), _int(jwk, "d", error)
        public_rsa = rsa.RSAPublicNumbers(_int(jwk, "e", error), _int(jwk, "n", error))
        crt = (rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q))
        return rsa.RSAPrivateNumbers(p, q, d, *crt, public_rsa).private_key()
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(_member(jwk, "d", error))
    raise error("unsupported JWK key type")


def load_private_key(key: PrivateKey | Mapping[str, Any], error: type[SdJwtError]) -> PrivateKey:
    """Accept a ``cryptography`` private key or a private JWK."""
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key
    if not isinstance(key, Mapping):
        raise error("unsupported private key type")
    try:
        return _private_key_from_jwk(key, error)
    except ValueError as exc:
        raise error("invalid private JWK") from exc


def load_public_key(
    key: PublicKey | PrivateKey | Mapping[str, Any], error: type[SdJwtError]
) -> PublicKey:
    """Accept a ``cryptography`` public (or private) key or a public JWK."""
    if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Mapping):
        if key.get("d") is not None:
            key = {name: value for name, value in key.items() if name not in _PRIVATE_MEMBERS}
        return public_key_from_jwk(key, error)
    raise error("unsupported public key type")


def public_jwk(key: PublicKey) -> JsonObject:
    """Export the public part of a key as a minimal JWK (members of RFC 7638 only)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        numbers = key.public_numbers()
        size = (key.curve.key_size + 7) // 8
        return {
            "kty": "EC",
            "crv": _CURVE_NAMES[key.curve.name],
            "x": b64url_encode(numbers.x.to_bytes(size, "big")),
            "y": b64url_encode(numbers.y.to_bytes(size, "big")),
        }
    if isinstance(key, rsa.RSAPublicKey):
        rsa_numbers = key.public_numbers()
        return {
            "kty": "RSA",
            "n": b64url_encode(
                rsa_numbers.n.to_bytes((rsa_numbers.n.bit_length() + 7) // 8, "big")
            ),
            "e": b64url_encode(
                rsa_numbers.e.to_bytes((rsa_numbers.e.bit_length() + 7) // 8, "big")
            ),
        }
    raw = key.public_bytes_raw()
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
