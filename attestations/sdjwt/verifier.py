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
from attestations.sdjwt.disclosures import decode_parts
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
from attestations.sdjwt.keybinding import (
    KeyBindingExpectation,
    ReadKeyBinding,
    check_key_binding,
    read_key_binding,
)
from attestations.sdjwt.processing import ClaimPath, process_items, sd_alg_of
from attestations.sdjwt.serialization import split_sd_jwt

LEEWAY_SECONDS = 60  # clock skew tolerated on exp, nbf, iat and the KB-JWT iat

KeyResolver: TypeAlias = Callable[
    [JsonObject, JsonObject], PublicKey | PrivateKey | Mapping[str, Any] | None
]
"""Called with the (unverified) JOSE header and payload; returns the Issuer's public key or
JWK, or raises / returns None when the Issuer or key is not trusted (RFC 9901 §7.1 step 2.3).
Nothing it does to either changes what is verified or returned."""


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


def check_key_binding_presence(kb_jwt: str | None, policy: VerificationPolicy) -> None:
    """§7.3 step 2; a KB-JWT the verifier cannot check (no nonce/audience) is refused."""
    if kb_jwt is None and policy.require_key_binding:
        raise KeyBindingRequired("this verifier requires an SD-JWT+KB")
    if kb_jwt is not None and policy.key_binding is None:
        raise KbUnexpected("a KB-JWT was presented but no nonce/audience was requested")


def check_header(header: JsonObject, policy: VerificationPolicy) -> str:
    """§7.1 step 2.1 and explicit typing (§9.11)."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        raise UnsupportedAlgorithm("signing algorithm not allowed")
    if header.get("typ") != policy.expected_typ:
        raise WrongType("unexpected typ")
    if "crit" in header:
        raise UnsupportedCriticalHeader("crit header parameters are not supported")
    return alg


def resolve_issuer_key(header: JsonObject, payload: JsonObject, resolver: KeyResolver) -> PublicKey:
    """§7.1 step 2.3: the caller decides which Issuer and key are trusted.

    The resolver gets a copy of the header (which the result holds) and the payload itself:
    the claims have been read from it before (``_verify``), so whatever the resolver does to
    it changes nothing that is verified. A JWK it returns is parsed once per process
    (``jwk.cached_public_key``): an Issuer's key recurs."""
    try:
        key = resolver(json_copy(header), payload)  # type: ignore[arg-type]
    except SdJwtError:
        raise
    except Exception as exc:  # the resolver is caller code; its failure means "not trusted"
        raise IssuerKeyUnresolved("the key resolver found no key") from exc
    if key is None:
        raise IssuerKeyUnresolved("the key resolver found no key")
    return load_public_key(key, IssuerKeyUnresolved, cache=True)


def check_signature(alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> None:
    """§7.1 step 2.2."""
    try:
        valid = jws.verify(alg, key, signing_input, signature)
    except jws.KeyMismatch as exc:
        raise InvalidSignature("the Issuer key does not fit the algorithm") from exc
    if not valid:
        raise InvalidSignature("the Issuer signature does not verify")


def _time_claim(claims: JsonObject, name: str) -> float | None:
    if name not in claims:
        return None
    value: JsonValue = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedSdJwt(f"{name} must be a NumericDate")
    return float(value)


def check_validity(claims: JsonObject, policy: VerificationPolicy, now: float) -> None:
    """§7.1 step 6: ``exp``, ``nbf`` and ``iat`` of the processed payload, with leeway."""
    exp, nbf = _time_claim(claims, "exp"), _time_claim(claims, "nbf")
    iat = _time_claim(claims, "iat")
    if exp is not None and now >= exp + policy.leeway:
        raise Expired("the SD-JWT has expired")
    if nbf is not None and now + policy.leeway < nbf:
        raise NotYetValid("the SD-JWT is not yet valid")
    if iat is not None and iat > now + policy.leeway:
        raise IssuedInFuture("the SD-JWT was issued in the future")


def check_required_claims(claims: JsonObject, policy: VerificationPolicy) -> None:
    """Claims the use case needs must be in the processed payload (disclosed, if SD)."""
    for name in policy.required_claims:
        if name not in claims:
            missing = [name for name in policy.required_claims if name not in claims]
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
    issuer_jwts, encoded, kb_jwt, sd_jwt = split_sd_jwt(
        presentation, legacy_json_layout=policy.legacy_json_layout
    )
    check_key_binding_presence(kb_jwt, policy)
    jwts = [jws.split_compact(token, MalformedSdJwt, cache_header=True) for token in issuer_jwts]
    header, payload = jwts[0][0], jwts[0][1]
    # §7.1 steps 2.4 to 6 (_sd_alg, Disclosures, digests, then validity, required claims and
    # iss) are computed here, before the signatures are checked, but the first failure among
    # them is raised only once every signature has verified, exactly as if they ran after (the
    # order of RFC 9901 §7.1, and the error a presentation gets). The claims are then already
    # read out of the payload into new objects, so the key resolver can be given the payload
    # itself rather than a copy.
    failure: Exception | None = None
    try:
        sd_alg = sd_alg_of(payload, policy.sd_algs)
        claims, uses = process_items(
            payload, encoded, [decode_parts(text) for text in encoded], sd_alg
        )
        check_validity(claims, policy, now)
        check_required_claims(claims, policy)
        check_issuer(claims, policy)
    except Exception as exc:  # raised below, after the signatures
        failure = exc
    # §7.3 step 5 up to its signature (the Holder key, the KB-JWT parsed, its header) is done
    # here too, its failure kept for its turn below, so that the two ECDSA verifications run
    # one after the other: Python code between them made each slower (cold caches).
    expected = policy.key_binding
    read_kb: ReadKeyBinding | None = None
    kb_failure: Exception | None = None
    if failure is None and kb_jwt is not None and expected is not None:
        try:
            read_kb = read_key_binding(kb_jwt, claims, expected)
        except Exception as exc:  # raised below, in the order of RFC 9901 §7.3
            kb_failure = exc
    for jwt_header, jwt_payload, signing_input, signature in jwts:
        alg = check_header(jwt_header, policy)
        key = resolve_issuer_key(jwt_header, jwt_payload, resolver)
        check_signature(alg, key, signing_input, signature)
    if failure is not None:
        raise failure
    kb_payload = None
    if kb_failure is not None:
        raise kb_failure
    if read_kb is not None and expected is not None:
        kb_payload = check_key_binding(
            read_kb,
            sd_jwt=sd_jwt,
            sd_alg=sd_alg,
            expected=expected,
            now=now,
            leeway=policy.leeway,
        )
    verified = _new(VerifiedSdJwt)  # the frozen dataclass's __init__ sets each field the slow way
    verified.__dict__.update(
        claims=claims,
        header=header,
        disclosed_paths=tuple([path for _, path in uses]),
        holder_jwk=_holder_jwk(claims),
        key_binding=kb_payload,
    )
    return verified


_new = object.__new__


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
