"""Verifying SD-JWT presentations: RFC 9901 §7.1 (the SD-JWT) and §7.3 (Key Binding).

Stricter than the RFC's minimum and than the reference implementation: explicit ``typ`` and
algorithm allow-lists, ``exp``/``nbf``/``iat`` checked with a named leeway, unreferenced or
repeated Disclosures rejected, and a KB-JWT is never ignored. ``verify_sd_jwt`` raises only
``SdJwtError`` subclasses, whatever the input.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from attestations.sdjwt import jws
from attestations.sdjwt.disclosures import decode_disclosure
from attestations.sdjwt.encoding import DEFAULT_SD_ALG, JsonObject, JsonValue, json_copy
from attestations.sdjwt.errors import (
    Expired,
    InvalidSignature,
    IssuedInFuture,
    IssuerKeyUnresolved,
    KbUnexpected,
    KeyBindingRequired,
    MalformedSdJwt,
    MissingRequiredClaim,
    NotYetValid,
    SdJwtError,
    UnsupportedAlgorithm,
    UnsupportedCriticalHeader,
    WrongIssuer,
    WrongType,
)
from attestations.sdjwt.issuer import DEFAULT_TYP
from attestations.sdjwt.jwk import PrivateKey, PublicKey, load_public_key
from attestations.sdjwt.keybinding import KeyBindingExpectation, verify_key_binding
from attestations.sdjwt.processing import ClaimPath, process_payload, sd_alg_of
from attestations.sdjwt.serialization import SdJwtParts, parse_sd_jwt

LEEWAY_SECONDS = 60  # clock skew tolerated on exp, nbf, iat and the KB-JWT iat

KeyResolver: TypeAlias = Callable[
    [JsonObject, JsonObject], PublicKey | PrivateKey | Mapping[str, Any] | None
]
"""Called with the (unverified) JOSE header and payload; returns the Issuer's public key or
JWK, or raises / returns None when the Issuer or key is not trusted (RFC 9901 §7.1 step 2.3)."""


@dataclass(frozen=True)
class VerificationPolicy:
    """Everything a verifier decides before looking at a presentation (RFC 9901 §7.3 step 1)."""

    expected_typ: str = DEFAULT_TYP
    algorithms: frozenset[str] = frozenset({"ES256"})
    sd_algs: frozenset[str] = frozenset({DEFAULT_SD_ALG})
    require_key_binding: bool = True
    key_binding: KeyBindingExpectation | None = None
    required_claims: tuple[str, ...] = ()
    expected_issuer: str | None = None
    leeway: int = LEEWAY_SECONDS
    legacy_json_layout: bool = False

    def __post_init__(self) -> None:
        unsupported = self.algorithms - jws.SUPPORTED_ALGORITHMS
        if unsupported or not self.algorithms:
            raise ValueError(f"algorithms not supported: {sorted(unsupported)}")
        if self.require_key_binding and self.key_binding is None:
            raise ValueError("require_key_binding needs a key_binding expectation")


@dataclass(frozen=True)
class VerifiedSdJwt:
    """The outcome of a successful verification.

    ``disclosed_paths`` are paths into ``claims`` (array indices after undisclosed elements are
    removed); ``holder_jwk`` is ``cnf.jwk``; ``key_binding`` is the verified KB-JWT payload.
    """

    claims: JsonObject
    header: JsonObject
    disclosed_paths: tuple[ClaimPath, ...]
    holder_jwk: JsonObject | None
    key_binding: JsonObject | None


def check_key_binding_presence(parts: SdJwtParts, policy: VerificationPolicy) -> None:
    """§7.3 step 2; a KB-JWT the verifier cannot check (no nonce/audience) is refused."""
    if parts.kb_jwt is None and policy.require_key_binding:
        raise KeyBindingRequired("this verifier requires an SD-JWT+KB")
    if parts.kb_jwt is not None and policy.key_binding is None:
        raise KbUnexpected("a KB-JWT was presented but no nonce/audience was requested")


def check_header(jwt: jws.CompactJws, policy: VerificationPolicy) -> str:
    """§7.1 step 2.1 and explicit typing (§9.11)."""
    alg = jwt.header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        raise UnsupportedAlgorithm("signing algorithm not allowed")
    if jwt.header.get("typ") != policy.expected_typ:
        raise WrongType("unexpected typ")
    if "crit" in jwt.header:
        raise UnsupportedCriticalHeader("crit header parameters are not supported")
    return alg


def resolve_issuer_key(jwt: jws.CompactJws, resolver: KeyResolver) -> PublicKey:
    """§7.1 step 2.3: the caller decides which Issuer and key are trusted.

    The resolver sees copies, so that it cannot change what is verified. A JWK it returns is
    parsed once per process (``jwk.cached_public_key``): an Issuer's key recurs."""
    header, payload = json_copy(jwt.header), json_copy(jwt.payload)
    assert isinstance(header, dict) and isinstance(payload, dict)
    try:
        key = resolver(header, payload)
    except SdJwtError:
        raise
    except Exception as exc:  # the resolver is caller code; its failure means "not trusted"
        raise IssuerKeyUnresolved("the key resolver found no key") from exc
    if key is None:
        raise IssuerKeyUnresolved("the key resolver found no key")
    return load_public_key(key, IssuerKeyUnresolved, cache=True)


def check_signature(jwt: jws.CompactJws, alg: str, key: PublicKey) -> None:
    """§7.1 step 2.2."""
    try:
        valid = jws.verify(alg, key, jwt.signing_input, jwt.signature)
    except jws.KeyMismatch as exc:
        raise InvalidSignature("the Issuer key does not fit the algorithm") from exc
    if not valid:
        raise InvalidSignature("the Issuer signature does not verify")


def _time_claim(claims: JsonObject, name: str) -> float | None:
    value: JsonValue = claims.get(name)
    if name not in claims:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedSdJwt(f"{name} must be a NumericDate")
    return float(value)


def check_validity(claims: JsonObject, policy: VerificationPolicy, now: float) -> None:
    """§7.1 step 6: ``exp``, ``nbf`` and ``iat`` of the processed payload, with leeway."""
    exp, nbf, iat = (_time_claim(claims, name) for name in ("exp", "nbf", "iat"))
    if exp is not None and now >= exp + policy.leeway:
        raise Expired("the SD-JWT has expired")
    if nbf is not None and now + policy.leeway < nbf:
        raise NotYetValid("the SD-JWT is not yet valid")
    if iat is not None and iat > now + policy.leeway:
        raise IssuedInFuture("the SD-JWT was issued in the future")


def check_required_claims(claims: JsonObject, policy: VerificationPolicy) -> None:
    """Claims the use case needs must be in the processed payload (disclosed, if SD)."""
    missing = [name for name in policy.required_claims if name not in claims]
    if missing:
        raise MissingRequiredClaim(f"missing claims: {', '.join(missing)}")


def check_issuer(claims: JsonObject, policy: VerificationPolicy) -> None:
    if policy.expected_issuer is not None and claims.get("iss") != policy.expected_issuer:
        raise WrongIssuer("unexpected iss")


def _holder_jwk(claims: JsonObject) -> JsonObject | None:
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
    return jwk if isinstance(jwk, dict) else None


def _verify(
    presentation: str, resolver: KeyResolver, policy: VerificationPolicy, now: float
) -> VerifiedSdJwt:
    parts = parse_sd_jwt(presentation, legacy_json_layout=policy.legacy_json_layout)
    check_key_binding_presence(parts, policy)
    jwts = [jws.parse_compact(token, MalformedSdJwt) for token in parts.issuer_jwts]
    for jwt in jwts:
        check_signature(jwt, check_header(jwt, policy), resolve_issuer_key(jwt, resolver))
    sd_alg = sd_alg_of(jwts[0].payload, policy.sd_algs)
    disclosures = [decode_disclosure(encoded) for encoded in parts.disclosures]
    processed = process_payload(jwts[0].payload, disclosures, sd_alg)
    claims = processed.claims
    check_validity(claims, policy, now)
    check_required_claims(claims, policy)
    check_issuer(claims, policy)
    kb_payload = None
    if parts.kb_jwt is not None and policy.key_binding is not None:
        kb_payload = verify_key_binding(
            parts.kb_jwt,
            claims=claims,
            sd_jwt=parts.sd_jwt,
            sd_alg=sd_alg,
            expected=policy.key_binding,
            now=now,
            leeway=policy.leeway,
        )
    disclosed_paths = tuple(use.path for use in processed.uses)
    return VerifiedSdJwt(claims, jwts[0].header, disclosed_paths, _holder_jwk(claims), kb_payload)


def verify_sd_jwt(
    presentation: str,
    *,
    key_resolver: KeyResolver,
    policy: VerificationPolicy,
    now: float | None = None,
) -> VerifiedSdJwt:
    """Verify a compact or JWS JSON serialized SD-JWT or SD-JWT+KB (RFC 9901 §7.1, §7.3, §8).

    ``now`` (seconds since the epoch) is injectable for tests; it defaults to the clock.
    """
    moment = time.time() if now is None else now
    try:
        return _verify(presentation, key_resolver, policy, moment)
    except SdJwtError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, OverflowError) as exc:
        # A safety net: every known failure is mapped above; the fuzz tests check this stays unused.
        raise MalformedSdJwt("the SD-JWT could not be processed") from exc
