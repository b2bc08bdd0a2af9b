"""Issuing SD-JWTs (RFC 9901 §4.1, §4.2).

Which claims are selectively disclosable is declared as claim paths, the same notation the
Holder uses to select claims and the Verifier uses to report them: ``("address",)`` makes the
whole address disclosable, ``("address", "postal_code")`` one of its members (recursively, if
both are listed), ``("nationalities", 0)`` one array element and ``("nationalities", None)``
every element of the array.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from attestations.sdjwt import jws
from attestations.sdjwt.disclosures import (
    ELLIPSIS_KEY,
    SD_ALG_KEY,
    SD_KEY,
    Disclosure,
    SaltSource,
    batched_salts,
    create_disclosure,
    random_salt,
)
from attestations.sdjwt.encoding import (
    DEFAULT_SD_ALG,
    HASH_ALGORITHMS,
    JsonObject,
    JsonValue,
    digest,
)
from attestations.sdjwt.errors import IssuanceError
from attestations.sdjwt.jwk import (
    PrivateKey,
    PublicKey,
    load_private_key,
    load_public_key,
    public_jwk,
)
from attestations.sdjwt.serialization import format_compact

DEFAULT_TYP = "dc+sd-jwt"  # SD-JWT VC; RFC 9901's own examples use "example+sd-jwt"
IssuerPath = tuple[str | int | None, ...]
_RESERVED_NAMES = frozenset({SD_KEY, ELLIPSIS_KEY, SD_ALG_KEY})
_JSON_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class IssuedSdJwt:
    """An SD-JWT as issued to the Holder: the Issuer-signed JWT and every Disclosure."""

    issuer_jwt: str
    header: JsonObject
    payload: JsonObject
    disclosures: tuple[Disclosure, ...]

    def serialize(self) -> str:
        """Compact serialization ``<JWT>~<D1>~...~<DN>~`` (RFC 9901 §4)."""
        return format_compact(self.issuer_jwt, tuple(d.encoded for d in self.disclosures))


def _matches(pattern: IssuerPath, path: tuple[str | int, ...]) -> bool:
    return len(pattern) == len(path) and all(
        p == q or (p is None and isinstance(q, int)) for p, q in zip(pattern, path, strict=True)
    )


@dataclass
class _Builder:
    """Walks the claims depth-first, creating Disclosures innermost first (RFC 9901 §4.2.6)."""

    patterns: tuple[IssuerPath, ...]
    sd_alg: str
    salt_source: SaltSource
    max_decoys: int
    disclosures: list[Disclosure] = field(default_factory=list)
    used_patterns: set[IssuerPath] = field(default_factory=set)
    salts: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Exact paths are a set lookup; only wildcard paths (None = any index) need matching.
        # Every node of the claims is asked, so this is the issuer's hot path.
        self._exact = {p for p in self.patterns if None not in p}
        self._wild = [p for p in self.patterns if None in p]

    def disclosable(self, path: tuple[str | int, ...]) -> bool:
        hit = path in self._exact
        if hit:
            self.used_patterns.add(path)
        for wild in self._wild:
            if _matches(wild, path):
                self.used_patterns.add(wild)
                hit = True
        return hit

    def disclose(self, name: str | None, value: JsonValue) -> str:
        salt = self.salt_source()
        if salt in self.salts:
            raise IssuanceError("salts must be unique per disclosure (RFC 9901 §4.2.1)")
        self.salts.add(salt)
        disclosure = create_disclosure(salt, name, value)
        self.disclosures.append(disclosure)
        return disclosure.digest(self.sd_alg)

    def decoys(self) -> list[str]:
        """RFC 9901 §4.2.5: digests over random values, a random number of them."""
        count = secrets.randbelow(self.max_decoys + 1) if self.max_decoys else 0
        return [digest(random_salt(), self.sd_alg) for _ in range(count)]

    def value(self, value: Any, path: tuple[str | int, ...]) -> JsonValue:
        # scalars first: most claims are, and Mapping is an ABC, slow to test against
        if isinstance(value, _JSON_SCALARS):
            if isinstance(value, float) and not math.isfinite(value):
                raise IssuanceError("claim values must be finite numbers")
            return value
        if isinstance(value, Mapping):
            return self.object(value, path)
        if isinstance(value, list | tuple):
            return self.array(value, path)
        raise IssuanceError(f"claim value of type {type(value).__name__} is not JSON")

    def object(self, obj: Mapping[Any, Any], path: tuple[str | int, ...]) -> JsonObject:
        plain: JsonObject = {}
        digests: list[str] = []
        for key, member in obj.items():
            if not isinstance(key, str) or key in _RESERVED_NAMES:
                raise IssuanceError(f"claim name {key!r} is not allowed")
            member_path = (*path, key)
            processed = self.value(member, member_path)
            if self.disclosable(member_path):
                digests.append(self.disclose(key, processed))
            else:
                plain[key] = processed
        if not digests:
            return plain
        # RFC 9901 §4.2.4.1: the order of digests must not reveal the order of claims.
        sd_digests: list[JsonValue] = [*sorted(digests + self.decoys())]
        return {SD_KEY: sd_digests, **plain}

    def array(self, array: Iterable[Any], path: tuple[str | int, ...]) -> list[JsonValue]:
        out: list[JsonValue] = []
        any_disclosable = False
        for index, element in enumerate(array):
            element_path = (*path, index)
            processed = self.value(element, element_path)
            if self.disclosable(element_path):
                out.append({ELLIPSIS_KEY: self.disclose(None, processed)})
                any_disclosable = True
            else:
                out.append(processed)
        if any_disclosable:
            for decoy in self.decoys():
                out.insert(secrets.randbelow(len(out) + 1), {ELLIPSIS_KEY: decoy})
        return out


def _check_patterns(disclosable: Iterable[IssuerPath]) -> tuple[IssuerPath, ...]:
    patterns = tuple(tuple(p) for p in disclosable)
    for pattern in patterns:
        if not pattern or any(
            isinstance(step, bool) or not isinstance(step, str | int | None) for step in pattern
        ):
            raise IssuanceError(f"invalid claim path {pattern!r}")
    return patterns


def _header(alg: str, typ: str, kid: str | None, extra: Mapping[str, Any] | None) -> JsonObject:
    if alg not in jws.SUPPORTED_ALGORITHMS:
        raise IssuanceError(f"unsupported signing algorithm {alg!r}")
    if not typ:
        raise IssuanceError("typ must be a non-empty string")
    if extra and ({"alg", "typ", "crit"} & set(extra)):
        raise IssuanceError("alg, typ and crit cannot be set through extra_header")
    header: JsonObject = {"alg": alg, "typ": typ}
    if kid is not None:
        header["kid"] = kid
    header.update(extra or {})
    return header


def issue_sd_jwt(
    claims: Mapping[str, Any],
    *,
    issuer_key: PrivateKey | Mapping[str, Any],
    disclosable: Iterable[IssuerPath] = (),
    alg: str = "ES256",
    typ: str = DEFAULT_TYP,
    kid: str | None = None,
    holder_key: PublicKey | PrivateKey | Mapping[str, Any] | None = None,
    iat: int | None = None,
    sd_alg: str = DEFAULT_SD_ALG,
    max_decoys: int = 0,
    salt_source: SaltSource | None = None,
    extra_header: Mapping[str, Any] | None = None,
) -> IssuedSdJwt:
    """Build and sign an SD-JWT (RFC 9901 §4.1).

    ``iat`` is taken from ``claims`` if present, else from the argument, else the clock.
    ``holder_key`` (public part only) becomes ``cnf.jwk`` for Key Binding (RFC 9901 §4.1.2).
    ``salt_source`` exists so tests can reproduce published vectors; keep the default (128-bit
    salts from the OS CSPRNG, drawn in one batch per issuance) otherwise.
    """
    if sd_alg not in HASH_ALGORITHMS:
        raise IssuanceError(f"unsupported _sd_alg {sd_alg!r}")
    if max_decoys < 0:
        raise IssuanceError("max_decoys must not be negative")
    header = _header(alg, typ, kid, extra_header)
    patterns = _check_patterns(disclosable)
    salts = batched_salts(len(patterns)) if salt_source is None else salt_source
    builder = _Builder(patterns, sd_alg, salts, max_decoys)
    payload = builder.object(claims, ())
    unused = set(builder.patterns) - builder.used_patterns
    if unused:
        raise IssuanceError(f"claim paths match no claim: {sorted(map(repr, unused))}")
    _add_registered_claims(payload, claims, iat=iat, sd_alg=sd_alg, holder_key=holder_key)
    key = load_private_key(issuer_key, IssuanceError)
    try:
        issuer_jwt = jws.encode_compact(header, payload, alg, key)
    except (jws.KeyMismatch, ValueError) as exc:
        raise IssuanceError(str(exc)) from exc
    return IssuedSdJwt(issuer_jwt, header, payload, tuple(builder.disclosures))


def _add_registered_claims(
    payload: JsonObject,
    claims: Mapping[str, Any],
    *,
    iat: int | None,
    sd_alg: str,
    holder_key: PublicKey | PrivateKey | Mapping[str, Any] | None,
) -> None:
    if "iat" in claims and iat is not None:
        raise IssuanceError("iat given both in claims and as argument")
    if "iat" not in claims:
        payload["iat"] = int(time.time()) if iat is None else iat
    payload[SD_ALG_KEY] = sd_alg
    if holder_key is not None:
        if "cnf" in claims:
            raise IssuanceError("cnf given both in claims and as holder_key")
        payload["cnf"] = {"jwk": public_jwk(load_public_key(holder_key, IssuanceError))}
