"""Compact JWS (RFC 7515) signing, parsing and verification with an explicit algorithm list.

Only asymmetric algorithms: ES256/ES384/ES512 (RFC 7518 §3.4, raw R||S signatures, curve bound
to the algorithm), RS256 and PS256 (RSA keys of at least 2048 bits) and EdDSA with Ed25519
(RFC 8037). ``none`` and HMAC are never supported, whatever a caller's allow-list says.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    json_dumps,
    json_object,
)
from attestations.sdjwt.errors import SdJwtError
from attestations.sdjwt.jwk import PrivateKey, PublicKey

_EC_ALGORITHMS: dict[str, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm]] = {
    "ES256": (ec.SECP256R1, hashes.SHA256()),
    "ES384": (ec.SECP384R1, hashes.SHA384()),
    "ES512": (ec.SECP521R1, hashes.SHA512()),
}
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


def _check_key(alg: str, key: PrivateKey | PublicKey) -> None:
    if alg in _EC_ALGORITHMS:
        curve_type = _EC_ALGORITHMS[alg][0]
        usable = isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and (
            isinstance(key.curve, curve_type)
        )
    elif alg in _RSA_ALGORITHMS:
        usable = isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) and (
            MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS
        )
    else:
        usable = alg == "EdDSA" and isinstance(
            key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey
        )
    if not usable:
        raise KeyMismatch(f"key cannot be used with {alg}")


def sign(alg: str, key: PrivateKey, signing_input: bytes) -> bytes:
    """Sign per RFC 7518 §3; raises ``KeyMismatch`` if key and algorithm do not fit."""
    _check_key(alg, key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        der = key.sign(signing_input, ec.ECDSA(_EC_ALGORITHMS[alg][1]))
        r, s = decode_dss_signature(der)
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(signing_input, _rsa_padding(alg), hashes.SHA256())
    return key.sign(signing_input)


def verify(alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> bool:
    """True if ``signature`` is valid; raises ``KeyMismatch`` if key and algorithm do not fit."""
    _check_key(alg, key)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            size = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                return False
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(_EC_ALGORITHMS[alg][1]))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signing_input, _rsa_padding(alg), hashes.SHA256())
        else:
            key.verify(signature, signing_input)
    except (CryptoInvalidSignature, ValueError):
        return False
    return True


def encode_compact(header: JsonObject, payload: JsonObject, alg: str, key: PrivateKey) -> str:
    """Build ``BASE64URL(header).BASE64URL(payload).BASE64URL(signature)``."""
    signing_input = (
        b64url_encode(json_dumps(header).encode("utf-8"))
        + "."
        + b64url_encode(json_dumps(payload).encode("utf-8"))
    )
    signature = sign(alg, key, signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def parse_compact(token: str, error: type[SdJwtError]) -> CompactJws:
    """Split and decode a compact JWS whose header and payload are JSON objects."""
    parts = token.split(".")
    # An empty signature is left for the algorithm check to refuse ("none", RFC 7518 §3.6).
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise error("a JWS has three parts and a non-empty header and payload")
    header = json_object(b64url_decode(parts[0], error), error)
    payload = json_object(b64url_decode(parts[1], error), error)
    signature = b64url_decode(parts[2], error)
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return CompactJws(header, payload, signing_input, signature, token)
