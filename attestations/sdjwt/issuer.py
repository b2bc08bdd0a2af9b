"""Issuing SD-JWTs (RFC 9901 §4.1, §4.2).

Which claims are selectively disclosable is declared as claim paths, the same notation the
Holder uses to select claims and the Verifier uses to report them: ``("address",)`` makes the
whole address disclosable, ``("address", "postal_code")`` one of its members (recursively, if
both are listed), ``("nationalities", 0)`` one array element and ``("nationalities", None)``
every element of the array.
"""

from __future__ import annotations

import binascii
import math
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from attestations.sdjwt import jws
from attestations.sdjwt.disclosures import (
    ELLIPSIS_KEY,
    SD_ALG_KEY,
    SD_KEY,
    Disclosure,
    SaltSource,
    disclosure_json,
    new_disclosure,
    random_salt,
    salt_batch,
)
from attestations.sdjwt.encoding import (
    _HASHES,
    _TO_URLSAFE,
    DEFAULT_SD_ALG,
    HASH_ALGORITHMS,
    JsonObject,
    JsonValue,
    b64url_encode,
    digest,
    json_dumps,
)
from attestations.sdjwt.errors import IssuanceError
from attestations.sdjwt.jwk import (
    PrivateKey,
    PublicKey,
    load_private_key,
    minimal_public_jwk,
)
from attestations.sdjwt.serialization import SEPARATOR, format_compact

DEFAULT_TYP = "dc+sd-jwt"  # SD-JWT VC; RFC 9901's own examples use "example+sd-jwt"
IssuerPath = tuple[str | int | None, ...]
_RESERVED_NAMES = frozenset({SD_KEY, ELLIPSIS_KEY, SD_ALG_KEY})
_JSON_SCALARS = (str, int, float, bool, type(None))
# Claim values taken over as they are, tested by exact class (an isinstance test of every claim
# against a tuple of classes showed in the profile); floats and subclasses go through `value`.
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})
_b2a = binascii.b2a_base64
_json_string = encode_basestring  # what json.dumps(..., ensure_ascii=False) writes for a str


@dataclass(frozen=True)
class IssuedSdJwt:
    """An SD-JWT as issued to the Holder: the Issuer-signed JWT and every Disclosure."""

    issuer_jwt: str
    header: JsonObject
    payload: JsonObject
    disclosures: tuple[Disclosure, ...]

    def serialize(self) -> str:
        """Compact serialization ``<JWT>~<D1>~...~<DN>~`` (RFC 9901 §4)."""
        parts: list[DisclosureParts] | None = self.__dict__.get("_parts")
        if parts is not None:
            return SEPARATOR.join([self.issuer_jwt, *[part[0] for part in parts], ""])
        return format_compact(self.issuer_jwt, tuple(d.encoded for d in self.disclosures))

    def __getattr__(self, name: str) -> Any:
        # `issue_sd_jwt` leaves `disclosures` out and keeps their parts; the Disclosure objects
        # are made when first asked for (most issuances are only serialized)
        parts: list[DisclosureParts] | None = self.__dict__.get("_parts")
        if name != "disclosures" or parts is None:
            raise AttributeError(name)
        disclosures = tuple(new_disclosure(*part) for part in parts)
        self.__dict__["disclosures"] = disclosures
        return disclosures


# A Disclosure as the issuer makes it: encoded, salt, claim name (None: array element), value.
DisclosureParts = tuple[str, str, str | None, JsonValue]


def _matches(pattern: IssuerPath, path: tuple[str | int, ...]) -> bool:
    return len(pattern) == len(path) and all(
        p == q or (p is None and isinstance(q, int)) for p, q in zip(pattern, path, strict=True)
    )


class _Builder:
    """Walks the claims depth-first, creating Disclosures innermost first (RFC 9901 §4.2.6)."""

    __slots__ = (
        "_exact",
        "_hash",
        "_pending",
        "_wild",
        "batch",
        "disclosures",
        "max_decoys",
        "salt_source",
        "salts",
        "sd_alg",
        "used_patterns",
    )

    def __init__(
        self,
        patterns: tuple[IssuerPath, ...],
        sd_alg: str,
        salt_source: SaltSource | None,
        max_decoys: int,
    ) -> None:
        self.sd_alg = sd_alg
        self._hash = _HASHES[sd_alg]
        # None: 128-bit salts from the OS CSPRNG, one read per issuance (`salt_batch`); the
        # batch lives in this builder only, one issuance long
        self.salt_source = salt_source
        self.batch = len(patterns) or 1
        self._pending: list[str] = []
        self.max_decoys = max_decoys
        self.disclosures: list[DisclosureParts] = []
        self.used_patterns: set[IssuerPath] = set()
        self.salts: set[str] = set()
        # Exact paths are a set lookup; only wildcard paths (None = any index) need matching.
        # Every node of the claims is asked, so this is the issuer's hot path.
        self._exact = set(patterns)
        self._wild = [p for p in patterns if None in p]
        if self._wild:
            self._exact.difference_update(self._wild)

    def disclosable(self, path: tuple[str | int, ...]) -> bool:
        hit = path in self._exact
        if hit:
            self.used_patterns.add(path)
        for wild in self._wild:
            if _matches(wild, path):
                self.used_patterns.add(wild)
                hit = True
        return hit

    def _next_salt(self) -> str:
        if self.salt_source is not None:
            return self.salt_source()
        self._pending.extend(salt_batch(self.batch))
        return self._pending.pop()

    def disclose(self, name: str | None, value: JsonValue) -> str:
        """A Disclosure of ``value`` (under ``name`` in an object, None in an array); its
        digest (RFC 9901 §4.2.3)."""
        pending = self._pending  # only ever filled from the OS CSPRNG (`_next_salt`)
        salt = pending.pop() if pending else self._next_salt()
        salts = self.salts
        if salt in salts:
            raise IssuanceError("salts must be unique per disclosure (RFC 9901 §4.2.1)")
        salts.add(salt)
        # create_disclosure, without its check of the name (reserved names are refused before)
        # and with the base64url kept as bytes for the digest
        encoded = _b2a(disclosure_json(salt, name, value).encode("utf-8"), newline=False)
        encoded = encoded.translate(_TO_URLSAFE).rstrip(b"=")
        self.disclosures.append((encoded.decode("ascii"), salt, name, value))
        hashed = _b2a(self._hash(encoded).digest(), newline=False)
        return hashed.translate(_TO_URLSAFE).rstrip(b"=").decode("ascii")

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
        exact, wild, used = self._exact, self._wild, self.used_patterns
        pending, salts, new_hash = self._pending, self.salts, self._hash
        add_disclosure = self.disclosures.append
        own_salts = self.salt_source is None  # from `salt_batch`, base64url
        for key, member in obj.items():
            if (type(key) is not str and not isinstance(key, str)) or key in _RESERVED_NAMES:
                raise IssuanceError(f"claim name {key!r} is not allowed")
            member_path = (*path, key)
            processed = (
                member if type(member) in _PLAIN_SCALARS else self.value(member, member_path)
            )
            # `disclosable`, inline
            hit = member_path in exact
            if hit:
                used.add(member_path)
            if wild and self.disclosable(member_path):
                hit = True
            if not hit:
                plain[key] = processed
                continue
            # `disclose(key, processed)`, inline: most claims that are disclosed are members
            salt = pending.pop() if pending else self._next_salt()
            if salt in salts:
                raise IssuanceError("salts must be unique per disclosure (RFC 9901 §4.2.1)")
            salts.add(salt)
            # `disclosure_json`, inline for a salt of our own (base64url: its JSON string is
            # itself in quotes) and a string value, the usual Disclosure
            if own_salts and type(processed) is str:
                text = f'["{salt}", {_json_string(key)}, {_json_string(processed)}]'
            else:
                text = disclosure_json(salt, key, processed)
            encoded = _b2a(text.encode("utf-8"), newline=False)
            encoded = encoded.translate(_TO_URLSAFE).rstrip(b"=")
            add_disclosure((encoded.decode("ascii"), salt, key, processed))
            hashed = _b2a(new_hash(encoded).digest(), newline=False)
            digests.append(hashed.translate(_TO_URLSAFE).rstrip(b"=").decode("ascii"))
        if not digests:
            return plain
        # RFC 9901 §4.2.4.1: the order of digests must not reveal the order of claims.
        if self.max_decoys:
            digests += self.decoys()
        digests.sort()
        sd_digests: list[JsonValue] = digests  # type: ignore[assignment]
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
    patterns = tuple([p if type(p) is tuple else tuple(p) for p in disclosable])
    for pattern in patterns:
        if not pattern:
            raise IssuanceError(f"invalid claim path {pattern!r}")
        for step in pattern:
            if (
                type(step) is not str
                and step is not None
                and (isinstance(step, bool) or not isinstance(step, str | int))
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


# The encoded protected header (BASE64URL of its JSON) by (alg, typ, kid), all three plain
# strings (kid may be None) and no extra header parameters: an Issuer signs every credential
# of a type with one header. The key is everything the text is made of, so no other header can
# get it; public values only, and never more than _HEADER_CACHE_SIZE of them.
_HEADER_CACHE_SIZE = 64
_protected_headers: dict[tuple[str, str, str | None], str] = {}


def _protected(header: JsonObject, extra: Mapping[str, Any] | None) -> str:
    alg, typ, kid = header["alg"], header["typ"], header.get("kid")
    if (
        extra
        or type(alg) is not str
        or type(typ) is not str
        or (kid is not None and type(kid) is not str)
    ):
        return b64url_encode(json_dumps(header).encode("utf-8"))
    ident = (alg, typ, kid)
    protected = _protected_headers.get(ident)
    if protected is None:
        protected = b64url_encode(json_dumps(header).encode("utf-8"))
        if len(_protected_headers) >= _HEADER_CACHE_SIZE:
            # dict operations are atomic under the GIL; a lost race is harmless
            _protected_headers.pop(next(iter(_protected_headers), ident), None)
        _protected_headers[ident] = protected
    return protected


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
    ``holder_key`` (public part only) becomes ``cnf.jwk`` for Key Binding (RFC 9901 §4.1.2);
    a JWK (as a Holder's key arrives in an OpenID4VCI proof) is checked and copied, not
    converted to a key object and back; a ``CheckedJwk`` (checked when it was made) is copied.
    ``salt_source`` exists so tests can reproduce published vectors; keep the default (128-bit
    salts from the OS CSPRNG, drawn in one batch per issuance) otherwise.
    """
    if sd_alg not in HASH_ALGORITHMS:
        raise IssuanceError(f"unsupported _sd_alg {sd_alg!r}")
    if max_decoys < 0:
        raise IssuanceError("max_decoys must not be negative")
    header = _header(alg, typ, kid, extra_header)
    patterns = _check_patterns(disclosable)
    builder = _Builder(patterns, sd_alg, salt_source, max_decoys)
    payload = builder.object(claims, ())
    if len(builder.used_patterns) != len(patterns):
        unused = set(patterns) - builder.used_patterns
        if unused:
            raise IssuanceError(f"claim paths match no claim: {sorted(map(repr, unused))}")
    _add_registered_claims(payload, claims, iat=iat, sd_alg=sd_alg, holder_key=holder_key)
    key = load_private_key(issuer_key, IssuanceError)
    try:
        issuer_jwt = jws.sign_compact(_protected(header, extra_header), payload, alg, key)
    except (jws.KeyMismatch, ValueError) as exc:
        raise IssuanceError(str(exc)) from exc
    issued = _new(IssuedSdJwt)  # the frozen dataclass's __init__ sets each field the slow way
    issued.__dict__.update(
        issuer_jwt=issuer_jwt, header=header, payload=payload, _parts=builder.disclosures
    )
    return issued


_new = object.__new__


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
        payload["cnf"] = {"jwk": minimal_public_jwk(holder_key, IssuanceError)}
