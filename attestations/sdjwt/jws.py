"""Compact JWS (RFC 7515) signing, parsing and verification with an explicit algorithm list.

Only asymmetric algorithms: ES256/ES384/ES512 (RFC 7518 §3.4, raw R||S signatures, curve bound
to the algorithm), RS256 and PS256 (RSA keys of at least 2048 bits) and EdDSA with Ed25519
(RFC 8037). ``none`` and HMAC are never supported, whatever a caller's allow-list says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from attestations.sdjwt.encoding import (
    JsonObject,
    b64url_decode,
    b64url_encode,
    json_copy,
    json_dumps,
    json_object,
)
from attestations.sdjwt.errors import SdJwtError
from attestations.sdjwt.jwk import (
    EC_PRIVATE,
    EC_PUBLIC,
    ED_PRIVATE,
    ED_PUBLIC,
    RSA_PRIVATE,
    RSA_PUBLIC,
    PrivateKey,
    PublicKey,
    key_kind,
)

_EC_ALGORITHMS: dict[str, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm]] = {
    "ES256": (ec.SECP256R1, hashes.SHA256()),
    "ES384": (ec.SECP384R1, hashes.SHA384()),
    "ES512": (ec.SECP521R1, hashes.SHA512()),
}
# Built once: an ECDSA object per call cost about 1 µs, a sixtieth of a P-256 verification.
_ECDSA = {alg: ec.ECDSA(hash_algorithm) for alg, (_, hash_algorithm) in _EC_ALGORITHMS.items()}
_EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}  # bytes of r and of s (RFC 7518 §3.4)
_RSA_ALGORITHMS = {"RS256", "PS256"}
SUPPORTED_ALGORITHMS = frozenset({*_EC_ALGORITHMS, *_RSA_ALGORITHMS, "EdDSA"})
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192  # a Holder-chosen cnf key must not make verification arbitrarily slow


class KeyMismatch(Exception):
    """The key cannot be used with the algorithm (internal; callers map it to their error)."""


@dataclass(frozen=True)
class CompactJws:
    """A parsed, not yet verified, compact JWS with a JSON object payload."""

    header: JsonObject
    payload: JsonObject
    signing_input: bytes
    signature: bytes
    compact: str


def _rsa_padding(alg: str) -> padding.AsymmetricPadding:
    if alg == "PS256":
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return padding.PKCS1v15()


def _check_key(alg: str, key: PrivateKey | PublicKey) -> int:
    """The kind of ``key`` (``jwk.key_kind``), if it fits ``alg``; raises ``KeyMismatch``
    otherwise."""
    kind = key_kind(key)
    if kind in _EC_KINDS:
        usable = alg in _EC_ALGORITHMS and isinstance(
            cast(ec.EllipticCurvePublicKey, key).curve, _EC_ALGORITHMS[alg][0]
        )
    elif kind in _RSA_KINDS:
        key_size = cast(rsa.RSAPublicKey, key).key_size
        usable = alg in _RSA_ALGORITHMS and MIN_RSA_BITS <= key_size <= MAX_RSA_BITS
    else:
        usable = alg == "EdDSA" and kind in _ED_KINDS
    if not usable or kind is None:
        raise KeyMismatch(f"key cannot be used with {alg}")
    return kind


_EC_KINDS = (EC_PRIVATE, EC_PUBLIC)
_RSA_KINDS = (RSA_PRIVATE, RSA_PUBLIC)
_ED_KINDS = (ED_PRIVATE, ED_PUBLIC)


def der_to_raw(der: bytes, size: int) -> bytes:
    """``r || s`` of ``size`` bytes each (RFC 7518 §3.4) from a DER ``ECDSA-Sig-Value``, as
    ``decode_dss_signature`` and ``int.to_bytes`` make it: the two INTEGERs are cut out of the
    DER by their lengths (a fifth of the time). Only the short-form DER of P-256 and P-384
    signatures is cut; anything else (P-521, or DER not laid out as expected) goes the long way,
    which raises ValueError for what is not DER."""
    n = len(der)
    if 8 <= n < 130 and der[0] == 0x30 and der[1] == n - 2 and der[2] == 2 and der[3]:
        r_end = 4 + der[3]
        if (
            r_end + 2 < n
            and der[r_end] == 2
            and der[r_end + 1] == n - r_end - 2
            and not (der[4] | der[r_end + 2]) & 0x80  # both positive
        ):
            r, s = der[4:r_end].lstrip(b"\0"), der[r_end + 2 :].lstrip(b"\0")
            if len(r) <= size and len(s) <= size:
                return r.rjust(size, b"\0") + s.rjust(size, b"\0")
    r_int, s_int = decode_dss_signature(der)
    return r_int.to_bytes(size, "big") + s_int.to_bytes(size, "big")


def raw_to_der(signature: bytes, size: int) -> bytes:
    """The DER ``ECDSA-Sig-Value`` of a raw ``r || s`` signature (``size`` bytes each), as
    ``encode_dss_signature`` writes it, built from the bytes without converting them to Python
    integers and back (half the time). DER lengths above 127 (P-521) go the long way."""
    # DER INTEGERs are minimal and signed: no leading zero bytes, but one before a high bit
    r, s = signature[:size].lstrip(b"\0"), signature[size:].lstrip(b"\0")
    if not r or r[0] & 0x80:
        r = b"\0" + r
    if not s or s[0] & 0x80:
        s = b"\0" + s
    length = len(r) + len(s) + 4
    if length > 127:
        return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    return b"0%c\x02%c%b\x02%c%b" % (length, len(r), r, len(s), s)


def sign(alg: str, key: PrivateKey, signing_input: bytes) -> bytes:
    """Sign per RFC 7518 §3; raises ``KeyMismatch`` if key and algorithm do not fit."""
    kind = _check_key(alg, key)
    if kind == EC_PRIVATE:
        der = cast(ec.EllipticCurvePrivateKey, key).sign(signing_input, _ECDSA[alg])
        return der_to_raw(der, _EC_SIZES[alg])
    if kind == RSA_PRIVATE:
        rsa_key = cast(rsa.RSAPrivateKey, key)
        return rsa_key.sign(signing_input, _rsa_padding(alg), hashes.SHA256())
    if kind == ED_PRIVATE:
        return cast(ed25519.Ed25519PrivateKey, key).sign(signing_input)
    raise KeyMismatch(f"a public key cannot sign with {alg}")


def verify(alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> bool:
    """True if ``signature`` is valid; raises ``KeyMismatch`` if key and algorithm do not fit."""
    kind = _check_key(alg, key)
    if kind in _PRIVATE_KINDS:  # the public half of a private key
        key = cast(PrivateKey, key).public_key()
    try:
        if kind in _EC_KINDS:
            size = _EC_SIZES[alg]
            if len(signature) != 2 * size:
                return False
            der = raw_to_der(signature, size)
            cast(ec.EllipticCurvePublicKey, key).verify(der, signing_input, _ECDSA[alg])
        elif kind in _RSA_KINDS:
            cast(rsa.RSAPublicKey, key).verify(
                signature, signing_input, _rsa_padding(alg), hashes.SHA256()
            )
        else:
            cast(ed25519.Ed25519PublicKey, key).verify(signature, signing_input)
    except (CryptoInvalidSignature, ValueError):
        return False
    return True


_PRIVATE_KINDS = (EC_PRIVATE, RSA_PRIVATE, ED_PRIVATE)


def encode_compact(header: JsonObject, payload: JsonObject, alg: str, key: PrivateKey) -> str:
    """Build ``BASE64URL(header).BASE64URL(payload).BASE64URL(signature)``."""
    return sign_compact(b64url_encode(json_dumps(header).encode("utf-8")), payload, alg, key)


def sign_compact(protected: str, payload: JsonObject, alg: str, key: PrivateKey) -> str:
    """``encode_compact`` with the header already encoded (``protected``, BASE64URL of its
    JSON): an Issuer's header is the same for every credential it signs with one key."""
    signing_input = protected + "." + b64url_encode(json_dumps(payload).encode("utf-8"))
    signature = sign(alg, key, signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def split_compact(
    token: str, error: type[SdJwtError], *, cache_header: bool = False
) -> tuple[JsonObject, JsonObject, bytes, bytes]:
    """``parse_compact`` without the object: header, payload, signing input and signature.

    ``cache_header``: the header is one that recurs (an Issuer's, a KB-JWT's): it is parsed
    once per process (``_parse_header``)."""
    parts = token.split(".")
    # An empty signature is left for the algorithm check to refuse ("none", RFC 7518 §3.6).
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise error("a JWS has three parts and a non-empty header and payload")
    protected, body, signature = parts
    if cache_header:
        header = _parse_header(protected, error)
    else:
        header = json_object(b64url_decode(protected, error), error)
    payload = json_object(b64url_decode(body, error), error)
    # the signing input is ASCII: both parts have just been decoded as base64url
    signing_input = token[: len(protected) + 1 + len(body)].encode("ascii")
    return header, payload, signing_input, b64url_decode(signature, error)


# Parsed protected headers by their exact text (BASE64URL of the JSON), for headers that
# recur: every credential of an Issuer key has the same, every ES256 KB-JWT too. The key is the
# whole input, so a header can only ever be read as itself; only headers that parsed are kept
# (a refusal is raised again each time), only short ones (no embedded keys or certificate
# chains), at most _HEADER_CACHE_SIZE, and each caller gets its own copy.
_HEADER_CACHE_SIZE = 64
_HEADER_CACHE_MAX_CHARS = 256
# each header with whether all its values are scalars (then a copy is a shallow one)
_headers: dict[str, tuple[JsonObject, bool]] = {}
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _parse_header(protected: str, error: type[SdJwtError]) -> JsonObject:
    cached = _headers.get(protected)
    if cached is not None:
        header, flat = cached
        return dict(header) if flat else cast(JsonObject, json_copy(header))
    header = json_object(b64url_decode(protected, error), error)
    if len(protected) <= _HEADER_CACHE_MAX_CHARS and type(protected) is str:
        if len(_headers) >= _HEADER_CACHE_SIZE:
            # dict operations are atomic under the GIL; a lost race is harmless
            _headers.pop(next(iter(_headers), protected), None)
        flat = all(type(value) in _SCALARS for value in header.values())
        _headers[protected] = (cast(JsonObject, json_copy(header)), flat)
    return header


def parse_compact(token: str, error: type[SdJwtError]) -> CompactJws:
    """Split and decode a compact JWS whose header and payload are JSON objects."""
    header, payload, signing_input, signature = split_compact(token, error)
    return CompactJws(header, payload, signing_input, signature, token)
