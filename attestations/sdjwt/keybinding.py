"""Key Binding JWTs: creation by the Holder (RFC 9901 §4.3) and checks by the Verifier (§7.3).

Each check is a small function raising its own error class; ``read_key_binding`` and then
``check_key_binding`` run them in the order of RFC 9901 §7.3 step 5 (cheap header checks
before the signature; the verifier reads the KB-JWT before it checks the Issuer's signature,
so that the two signatures are checked one after the other).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from attestations.sdjwt import jws
from attestations.sdjwt.encoding import DEFAULT_SD_ALG, JsonObject, JsonValue, digest
from attestations.sdjwt.errors import (
    KbBadSignature,
    KbIssuedInFuture,
    KbMalformed,
    KbNoHolderKey,
    KbStale,
    KbUnsupportedAlgorithm,
    KbWrongAudience,
    KbWrongNonce,
    KbWrongSdHash,
    KbWrongType,
    PresentationError,
)
from attestations.sdjwt.jwk import PrivateKey, PublicKey, load_private_key, public_key_from_jwk

KB_JWT_TYP = "kb+jwt"
KB_REQUIRED_CLAIMS = ("iat", "aud", "nonce", "sd_hash")
KB_MAX_AGE_SECONDS = 300  # a KB-JWT answers one request; older ones are replays


@dataclass(frozen=True)
class KeyBindingExpectation:
    """What the Verifier expects of a KB-JWT: its own nonce and audience, a freshness window."""

    nonce: str
    audience: str
    max_age: int = KB_MAX_AGE_SECONDS
    algorithms: frozenset[str] = frozenset({"ES256"})


def create_key_binding_jwt(
    sd_jwt: str,
    *,
    holder_key: PrivateKey | Mapping[str, Any],
    nonce: str,
    audience: str,
    iat: int | None = None,
    alg: str = "ES256",
    sd_alg: str = DEFAULT_SD_ALG,
) -> str:
    """RFC 9901 §4.3: sign ``{iat, aud, nonce, sd_hash}`` with ``typ: kb+jwt``.

    ``sd_jwt`` is the presented SD-JWT up to and including its last ``~`` (§4.3.1).
    """
    if not sd_jwt.endswith("~"):
        raise PresentationError("sd_hash covers the SD-JWT up to and including its last '~'")
    key = load_private_key(holder_key, PresentationError)
    payload: JsonObject = {
        "iat": int(time.time()) if iat is None else iat,
        "aud": audience,
        "nonce": nonce,
        "sd_hash": digest(sd_jwt, sd_alg),
    }
    try:
        return jws.encode_compact({"alg": alg, "typ": KB_JWT_TYP}, payload, alg, key)
    except jws.KeyMismatch as exc:
        raise PresentationError(str(exc)) from exc


def holder_public_key(claims: JsonObject) -> PublicKey:
    """RFC 9901 §4.1.2 / RFC 7800 §3.2: the Holder key is ``cnf.jwk`` of the processed payload.
    Loaded on every verification: a Holder's key differs per credential, so it is not cached."""
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(jwk, dict):
        raise KbNoHolderKey("the SD-JWT has no cnf.jwk")
    return public_key_from_jwk(jwk, KbNoHolderKey)


def _number(payload: JsonObject, name: str) -> float | None:
    value = payload.get(name)
    if value is None and name not in payload:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KbMalformed(f"{name} must be a number")
    return float(value)


SUPPORTED = jws.SUPPORTED_ALGORITHMS


def check_header(header: JsonObject, expected: KeyBindingExpectation) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in expected.algorithms or alg not in SUPPORTED:
        raise KbUnsupportedAlgorithm("KB-JWT algorithm not allowed")
    if header.get("typ") != KB_JWT_TYP:
        raise KbWrongType("KB-JWT typ must be kb+jwt")
    if "crit" in header:
        raise KbMalformed("KB-JWT crit header is not supported")
    return alg


def check_signature(alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> None:
    try:
        valid = jws.verify(alg, key, signing_input, signature)
    except jws.KeyMismatch as exc:
        raise KbBadSignature("Holder key does not fit the KB-JWT algorithm") from exc
    if not valid:
        raise KbBadSignature("KB-JWT signature does not verify with cnf.jwk")


def check_required_claims(payload: JsonObject) -> None:
    missing = [name for name in KB_REQUIRED_CLAIMS if name not in payload]
    if missing:
        raise KbMalformed(f"KB-JWT lacks {', '.join(missing)}")


def check_times(
    payload: JsonObject, expected: KeyBindingExpectation, now: float, leeway: int
) -> None:
    iat = _number(payload, "iat")
    if iat is None:
        raise KbMalformed("KB-JWT lacks iat")
    if iat > now + leeway:
        raise KbIssuedInFuture("KB-JWT iat is in the future")
    if iat < now - expected.max_age - leeway:
        raise KbStale("KB-JWT is older than the freshness window")
    if "exp" in payload:
        exp = _number(payload, "exp")
        if exp is not None and now >= exp + leeway:
            raise KbStale("KB-JWT has expired")
    if "nbf" in payload:
        nbf = _number(payload, "nbf")
        if nbf is not None and now + leeway < nbf:
            raise KbIssuedInFuture("KB-JWT is not yet valid")


def _equal(value: JsonValue, expected: str) -> bool:
    return isinstance(value, str) and hmac.compare_digest(value.encode(), expected.encode())


def check_transaction(payload: JsonObject, expected: KeyBindingExpectation) -> None:
    if not _equal(payload.get("nonce"), expected.nonce):
        raise KbWrongNonce("KB-JWT nonce does not match")
    if not _equal(payload.get("aud"), expected.audience):
        raise KbWrongAudience("KB-JWT aud is not this verifier")


def check_sd_hash(payload: JsonObject, sd_jwt: str, sd_alg: str) -> None:
    if not _equal(payload.get("sd_hash"), digest(sd_jwt, sd_alg)):
        raise KbWrongSdHash("KB-JWT sd_hash does not match the presented SD-JWT")


# A KB-JWT read and checked up to its signature: the Holder key, the algorithm, the payload,
# the signing input and the signature (``read_key_binding``).
ReadKeyBinding = tuple[PublicKey, str, JsonObject, bytes, bytes]


def read_key_binding(
    kb_jwt: str, claims: JsonObject, expected: KeyBindingExpectation
) -> ReadKeyBinding:
    """RFC 9901 §7.3 step 5 up to the signature: the Holder key from ``cnf.jwk``, the KB-JWT
    parsed, its header checked."""
    key = holder_public_key(claims)
    header, payload, signing_input, signature = jws.split_compact(
        kb_jwt, KbMalformed, cache_header=True
    )
    alg = check_header(header, expected)
    return key, alg, payload, signing_input, signature


def check_key_binding(
    read: ReadKeyBinding,
    *,
    sd_jwt: str,
    sd_alg: str,
    expected: KeyBindingExpectation,
    now: float,
    leeway: int,
) -> JsonObject:
    """RFC 9901 §7.3 step 5 from the signature on, for a KB-JWT ``read_key_binding`` read;
    returns the KB-JWT payload."""
    key, alg, payload, signing_input, signature = read
    check_signature(alg, key, signing_input, signature)
    check_required_claims(payload)
    check_times(payload, expected, now, leeway)
    check_transaction(payload, expected)
    check_sd_hash(payload, sd_jwt, sd_alg)
    return payload
