"""Conversion between JWKs (RFC 7517/7518/8037) and ``cryptography`` key objects.

Only the key types the JWS algorithms of this library use: EC P-256/P-384/P-521, RSA and
OKP Ed25519. Parsing is strict about member types and coordinate lengths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

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


def _ec_point(jwk: Mapping[str, Any], error: type[SdJwtError]) -> tuple[ec.EllipticCurve, bytes]:
    """The curve and the uncompressed SEC 1 point ``04 || x || y`` of an EC JWK."""
    crv = jwk.get("crv")
    curve = CURVES.get(crv) if isinstance(crv, str) else None
    if curve is None:
        raise error("unsupported EC curve")
    size = (curve.key_size + 7) // 8
    x, y = _member(jwk, "x", error), _member(jwk, "y", error)
    if len(x) != size or len(y) != size:
        raise error("EC coordinates have the wrong length")
    return curve, b"\x04" + x + y


def _ec_public_numbers(
    jwk: Mapping[str, Any], error: type[SdJwtError]
) -> ec.EllipticCurvePublicNumbers:
    curve, point = _ec_point(jwk, error)
    size = (curve.key_size + 7) // 8
    x, y = int.from_bytes(point[1 : 1 + size], "big"), int.from_bytes(point[1 + size :], "big")
    return ec.EllipticCurvePublicNumbers(x, y, curve)


def public_key_from_jwk(jwk: Mapping[str, Any], error: type[SdJwtError]) -> PublicKey:
    """Load a public key from a JWK; a JWK with private members is refused."""
    if not isinstance(jwk, Mapping):
        raise error("JWK is not an object")
    if any(name in jwk for name in _PRIVATE_MEMBERS):
        raise error("JWK contains private key material")
    try:
        kty = jwk.get("kty")
        if kty == "EC":
            # from the encoded point: no detour through Python integers; the point is still
            # checked to be on the curve (ValueError otherwise)
            return ec.EllipticCurvePublicKey.from_encoded_point(*_ec_point(jwk, error))
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


# The members that determine a public key; two JWKs that agree on them are the same key.
_KEY_MEMBERS = {"EC": ("crv", "x", "y"), "RSA": ("n", "e"), "OKP": ("crv", "x")}
_CACHE_SIZE = 64
_cache: dict[tuple[Any, ...], PublicKey] = {}


def cached_public_key(jwk: Mapping[str, Any], error: type[SdJwtError]) -> PublicKey:
    """``public_key_from_jwk`` for keys that recur (an Issuer's): each JWK is parsed and its
    point checked once per process, not on every verification. Refusals are never cached.
    Only for trusted keys: a Holder's ``cnf.jwk`` differs per credential and is not cached."""
    kty = jwk.get("kty") if isinstance(jwk, Mapping) else None
    names = _KEY_MEMBERS.get(kty) if isinstance(kty, str) else None
    if names is None or any(name in jwk for name in _PRIVATE_MEMBERS):
        return public_key_from_jwk(jwk, error)
    ident = (kty, *(jwk.get(name) for name in names))
    if not all(isinstance(member, str) for member in ident):
        return public_key_from_jwk(jwk, error)
    key = _cache.get(ident)
    if key is None:
        key = public_key_from_jwk(jwk, error)
        oldest = next(iter(_cache), None) if len(_cache) >= _CACHE_SIZE else None
        if oldest is not None:  # dict operations are atomic under the GIL; a lost race is harmless
            _cache.pop(oldest, None)
        _cache[ident] = key
    return key


def load_public_key(
    key: PublicKey | PrivateKey | Mapping[str, Any],
    error: type[SdJwtError],
    *,
    cache: bool = False,
) -> PublicKey:
    """Accept a ``cryptography`` public (or private) key or a public JWK; ``cache``: the JWK is
    a trusted, recurring key (``cached_public_key``)."""
    if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Mapping):
        if key.get("d") is not None:
            key = {name: value for name, value in key.items() if name not in _PRIVATE_MEMBERS}
        return cached_public_key(key, error) if cache else public_key_from_jwk(key, error)
    raise error("unsupported public key type")


def public_jwk(key: PublicKey) -> JsonObject:
    """Export the public part of a key as a minimal JWK (members of RFC 7638 only)."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        size = (key.curve.key_size + 7) // 8
        return {
            "kty": "EC",
            "crv": _CURVE_NAMES[key.curve.name],
            "x": b64url_encode(point[1 : 1 + size]),
            "y": b64url_encode(point[1 + size :]),
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
