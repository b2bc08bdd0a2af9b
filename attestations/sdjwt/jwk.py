"""Conversion between JWKs (RFC 7517/7518/8037) and ``cryptography`` key objects.

Only the key types the JWS algorithms of this library use: EC P-256/P-384/P-521, RSA and
OKP Ed25519. Parsing is strict about member types and coordinate lengths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias, cast

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
_PRIVATE_MEMBER_SET = frozenset(_PRIVATE_MEMBERS)

# What a key is, by its class. The key classes are ABCs with the Rust classes registered, and
# an isinstance test against them took 0.3 to 0.5 µs; a class, once found to be one of them,
# stays one (ABCs never unregister), so only the positive answers are remembered.
EC_PRIVATE, EC_PUBLIC, RSA_PRIVATE, RSA_PUBLIC, ED_PRIVATE, ED_PUBLIC = range(6)
_PRIVATE_KINDS = frozenset({EC_PRIVATE, RSA_PRIVATE, ED_PRIVATE})
_KIND_CLASSES: tuple[tuple[int, type], ...] = (
    (EC_PRIVATE, ec.EllipticCurvePrivateKey),
    (EC_PUBLIC, ec.EllipticCurvePublicKey),
    (RSA_PRIVATE, rsa.RSAPrivateKey),
    (RSA_PUBLIC, rsa.RSAPublicKey),
    (ED_PRIVATE, ed25519.Ed25519PrivateKey),
    (ED_PUBLIC, ed25519.Ed25519PublicKey),
)
_kinds: dict[type, int] = {}


def key_kind(key: object) -> int | None:
    """``EC_PRIVATE`` ... ``ED_PUBLIC`` for a ``cryptography`` key of a supported type,
    else None."""
    kind = _kinds.get(type(key))
    if kind is None:
        for candidate, cls in _KIND_CLASSES:
            if isinstance(key, cls):
                _kinds[type(key)] = kind = candidate
                break
    return kind


def _is_mapping(value: object) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # Mapping is a slow ABC test


def _has_private_members(jwk: Mapping[str, Any]) -> bool:
    if type(jwk) is dict:
        return not _PRIVATE_MEMBER_SET.isdisjoint(jwk)
    return any(name in jwk for name in _PRIVATE_MEMBERS)


def _member(jwk: Mapping[str, Any], name: str, error: type[SdJwtError]) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise error(f"JWK member {name!r} missing or not a string")
    return b64url_decode(value, error)


def _int(jwk: Mapping[str, Any], name: str, error: type[SdJwtError]) -> int:
    return int.from_bytes(_member(jwk, name, error), "big")


_CURVE_SIZES = {name: (curve, (curve.key_size + 7) // 8) for name, curve in CURVES.items()}
# By JWK curve name: the base64url length of a coordinate, and the "A"s (zero bits) that fill it
# to whole 4-character groups (one for P-256: 43 characters, the last with 2 spare bits).
_COORDINATE_TEXT = {
    name: ((8 * size + 5) // 6, "A" * (-((8 * size + 5) // 6) % 4))
    for name, (_, size) in _CURVE_SIZES.items()
}


def _coordinates(jwk: Mapping[str, Any], crv: str) -> bytes | None:
    """``x``, a spare byte if the curve has spare bits (P-256), ``y`` and again a spare byte,
    decoded in one call, for the usual JWK: both coordinates plain strings of the curve's
    length that decode. Each is filled to whole 4-character groups, so neither spills into the
    other, and each decodes as it would alone. None otherwise: the long way then raises the
    error it always raised."""
    x, y = jwk.get("x"), jwk.get("y")
    chars, fill = _COORDINATE_TEXT[crv]
    if type(x) is not str or type(y) is not str or len(x) != chars or len(y) != chars:
        return None
    try:
        return b64url_decode(x + fill + y + fill, SdJwtError)
    except SdJwtError:
        return None


def _ec_point(jwk: Mapping[str, Any], error: type[SdJwtError]) -> tuple[ec.EllipticCurve, bytes]:
    """The curve and the uncompressed SEC 1 point ``04 || x || y`` of an EC JWK."""
    crv = jwk.get("crv")
    curve_size = _CURVE_SIZES.get(crv) if isinstance(crv, str) else None
    if curve_size is None:
        raise error("unsupported EC curve")
    curve, size = curve_size
    both = _coordinates(jwk, cast(str, crv))  # a known curve name
    if both is not None:  # the spare bits, if any, are dropped as decoding one alone drops them
        half = len(both) // 2
        return curve, b"\x04" + both[:size] + both[half : half + size]
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
    if not _is_mapping(jwk):
        raise error("JWK is not an object")
    if _has_private_members(jwk):
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
    if key_kind(key) in _PRIVATE_KINDS:
        return cast(PrivateKey, key)
    if not _is_mapping(key):
        raise error("unsupported private key type")
    key = cast(Mapping[str, Any], key)
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
    kty = jwk.get("kty") if _is_mapping(jwk) else None
    names = _KEY_MEMBERS.get(kty) if isinstance(kty, str) else None
    if names is None or _has_private_members(jwk):
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
    kind = key_kind(key)
    if kind is not None:
        return (
            cast(PrivateKey, key).public_key() if kind in _PRIVATE_KINDS else cast(PublicKey, key)
        )
    if _is_mapping(key):
        key = cast(Mapping[str, Any], key)
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


# y² = x³ − 3x + b over GF(p), for the NIST prime curves (SEC 2 v2 §2.4; SP 800-186 §3.2.1):
# p and b of each. All three have cofactor 1, so a point in range and on the curve is a valid
# public key (SEC 1 v2 §3.2.2.1), which is what OpenSSL checks when it loads one.
_WEIERSTRASS = {
    "secp256r1": (
        2**256 - 2**224 + 2**192 + 2**96 - 1,
        0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    ),
    "secp384r1": (
        2**384 - 2**128 - 2**96 + 2**32 - 1,
        int(
            "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875A"
            "C656398D8A2ED19D2A85C8EDD3EC2AEF",
            16,
        ),
    ),
    "secp521r1": (
        2**521 - 1,
        int(
            "0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF1"
            "09E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00",
            16,
        ),
    ),
}


# By JWK curve name: its name, the byte length of a coordinate, and p and b.
_EC_PARAMS = {
    name: (name, (curve.key_size + 7) // 8, *_WEIERSTRASS[curve.name])
    for name, curve in CURVES.items()
}


def on_curve(crv: str, x: int, y: int) -> bool:
    """Whether (x, y) is a public key on the curve of JWK name ``crv``: both coordinates in
    range and y² = x³ − 3x + b (mod p). What OpenSSL checks when it loads a point (tested
    against it), without building a key object: a tenth of the time."""
    _, _, p, b = _EC_PARAMS[crv]
    return x < p and y < p and (y * y - x * (x * x - 3) - b) % p == 0


def minimal_public_jwk(
    key: PublicKey | PrivateKey | Mapping[str, Any], error: type[SdJwtError]
) -> JsonObject:
    """``public_jwk(load_public_key(key, error))``: the public part of a key object or JWK as a
    minimal JWK (RFC 7638 members). An EC JWK (how a Holder's key arrives, in an OpenID4VCI
    proof) is checked as ``load_public_key`` checks it (no private members besides a ``d`` to
    drop, known curve, coordinates of the curve's length, the point on the curve), without
    building a key object and exporting it again: that took a quarter of an issuance's time
    besides the signature. A ``CheckedJwk`` passed them when it was made: it is copied."""
    if type(key) is CheckedJwk:
        return dict(key)
    if not _is_mapping(key) or cast(Mapping[str, Any], key).get("kty") != "EC":
        return public_jwk(load_public_key(key, error))
    jwk = cast(Mapping[str, Any], key)
    if jwk.get("d") is not None:
        jwk = {name: value for name, value in jwk.items() if name not in _PRIVATE_MEMBERS}
    if _has_private_members(jwk):
        raise error("JWK contains private key material")
    crv = jwk.get("crv")
    params = _EC_PARAMS.get(crv) if isinstance(crv, str) else None
    if params is None:
        raise error("unsupported EC curve")
    name, size, p, b = params
    both = _coordinates(jwk, name)
    half = size if both is None else len(both) // 2
    if both is not None and (half == size or not (both[size] or both[-1])):
        # both canonical base64url (no spare bits set): what b64url_encode would write
        x_text, y_text = jwk["x"], jwk["y"]
        x, y = both[:size], both[half : half + size]
    else:  # the long way: its errors, and non-canonical coordinates re-encoded
        x, y = _member(jwk, "x", error), _member(jwk, "y", error)
        if len(x) != size or len(y) != size:
            raise error("EC coordinates have the wrong length")
        x_text, y_text = b64url_encode(x), b64url_encode(y)
    x_int, y_int = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    # on_curve, inline
    if not (x_int < p and y_int < p and (y_int * y_int - x_int * (x_int * x_int - 3) - b) % p == 0):
        raise error("invalid JWK")
    return {"kty": "EC", "crv": name, "x": x_text, "y": y_text}


_MADE_BY_CHECKED_JWK = object()


class CheckedJwk(dict[str, Any]):
    """A public key as a minimal JWK that passed ``minimal_public_jwk``'s checks, made only by
    ``checked_jwk``, read-only. An Issuer writes it into ``cnf.jwk`` as it is: a Holder's key is
    checked where it enters (the credential endpoint's key proof), not a second time when a
    credential is bound to it. A plain dict of the same members is checked as before."""

    __slots__ = ()

    def __new__(cls, members: Mapping[str, Any], made_by: object = None) -> CheckedJwk:
        if made_by is not _MADE_BY_CHECKED_JWK:
            raise TypeError("a CheckedJwk is made by checked_jwk()")
        return super().__new__(cls)

    def __init__(self, members: Mapping[str, Any], made_by: object = None) -> None:
        if made_by is not _MADE_BY_CHECKED_JWK or self:  # made once, then read-only
            raise TypeError("a CheckedJwk is made by checked_jwk()")
        super().__init__(members)

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a CheckedJwk is read-only")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> Any:  # copies and pickles are plain dicts, checked again when used
        return (dict, (dict(self),))


def checked_jwk(
    key: PublicKey | PrivateKey | Mapping[str, Any], error: type[SdJwtError]
) -> CheckedJwk:
    """``minimal_public_jwk(key, error)`` as a ``CheckedJwk``: raises ``error`` as it does."""
    return CheckedJwk(minimal_public_jwk(key, error), _MADE_BY_CHECKED_JWK)
