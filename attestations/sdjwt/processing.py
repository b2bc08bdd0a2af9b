"""Replacing embedded digests by disclosed claims: RFC 9901 §7.1 steps 3 to 5.

Shared by the Holder (which processes the SD-JWT with all Disclosures, §7.2) and the Verifier.
Besides the RFC's MUSTs this is strict about the reserved keys: ``_sd`` must be an array of
strings, ``...`` may only appear as the sole key of an array element, and ``_sd_alg`` only at
the top level (RFC 9901 §4.1 rule 7, §4.1.1).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from attestations.sdjwt.disclosures import ELLIPSIS_KEY, SD_ALG_KEY, SD_KEY, Disclosure
from attestations.sdjwt.encoding import (
    _HASHES,
    _TO_URLSAFE,
    DEFAULT_SD_ALG,
    HASH_ALGORITHMS,
    JsonObject,
    JsonValue,
)
from attestations.sdjwt.errors import (
    ClaimNameCollision,
    DisclosureKindMismatch,
    DuplicateDigest,
    DuplicateDisclosure,
    MalformedSdJwt,
    UnreferencedDisclosure,
    UnsupportedSdAlg,
)

ClaimPath = tuple[str | int, ...]
MAX_DEPTH = 64  # far beyond any credential; keeps hostile nesting from exhausting the stack


@dataclass(frozen=True)
class DisclosureUse:
    """A Disclosure and the path of the claim it revealed in the processed payload."""

    disclosure: Disclosure
    path: ClaimPath


@dataclass(frozen=True)
class ProcessedPayload:
    claims: JsonObject
    uses: tuple[DisclosureUse, ...]


_b2a = binascii.b2a_base64
# Parsed JSON holds exactly these classes; a scalar member is taken over without a call.
_SCALARS = frozenset({str, int, float, bool, type(None)})
# What the walk knows of a Disclosure: its claim name (None: an array element), its value and
# its place in the presented list. Plain tuples: the verifier builds no Disclosure objects.
DisclosureItem = tuple[str | None, JsonValue, int]


class _Walk:
    __slots__ = ("by_digest", "seen", "uses")

    def __init__(self, by_digest: dict[str, DisclosureItem]) -> None:
        self.by_digest = by_digest
        self.seen: set[str] = set()
        # (place in the presented list, path of the claim it revealed), in the walk's order
        self.uses: list[tuple[int, ClaimPath]] = []

    def see(self, digest: str) -> DisclosureItem | None:
        """§7.1 step 4: every digest, decoy or not, may occur only once."""
        if digest in self.seen:
            raise DuplicateDigest("a digest occurs more than once")
        self.seen.add(digest)
        return self.by_digest.get(digest)

    def value(self, value: JsonValue, path: ClaimPath) -> JsonValue:
        if len(path) > MAX_DEPTH:
            raise MalformedSdJwt("claims are nested too deeply")
        if isinstance(value, dict):
            return self.object(value, path)
        if isinstance(value, list):
            return self.array(value, path)
        return value

    def object(self, obj: JsonObject, path: ClaimPath) -> JsonObject:
        """§7.1 step 3.2.1 and 3.3.2: plaintext members, then members from ``_sd`` digests."""
        out: JsonObject = {}
        too_deep = len(path) >= MAX_DEPTH  # its members are one level deeper than ``path``
        for key, member in obj.items():
            if key == ELLIPSIS_KEY:
                raise MalformedSdJwt("'...' is only allowed as an array element digest")
            if key == SD_ALG_KEY:
                if path:
                    raise MalformedSdJwt("_sd_alg is only allowed at the top level")
            elif key != SD_KEY:
                if too_deep:
                    raise MalformedSdJwt("claims are nested too deeply")
                out[key] = member if type(member) in _SCALARS else self.value(member, (*path, key))
        if SD_KEY in obj:
            self.sd_members(obj, out, path)
        return out

    def sd_members(self, obj: JsonObject, out: JsonObject, path: ClaimPath) -> None:
        listed = obj[SD_KEY]
        if not isinstance(listed, list):
            raise MalformedSdJwt("_sd must be an array of strings")
        for digest in listed:  # all checked before any is used
            if type(digest) is not str and not isinstance(digest, str):
                raise MalformedSdJwt("_sd must be an array of strings")
        by_digest, seen, uses = self.by_digest, self.seen, self.uses
        too_deep = len(path) >= MAX_DEPTH  # a disclosed member is one level deeper
        for digest in listed:
            # `see`, inline
            if digest in seen:
                raise DuplicateDigest("a digest occurs more than once")
            seen.add(digest)  # type: ignore[arg-type]
            item = by_digest.get(digest)  # type: ignore[arg-type]
            if item is None:
                continue  # not disclosed, or a decoy
            name, value, index = item
            if name is None:
                raise DisclosureKindMismatch("array element disclosure referenced from _sd")
            if name in obj or name in out:
                raise ClaimNameCollision("disclosed claim name already exists at its level")
            if too_deep:
                raise MalformedSdJwt("claims are nested too deeply")
            member_path = (*path, name)
            uses.append((index, member_path))
            out[name] = value if type(value) in _SCALARS else self.value(value, member_path)

    def array(self, array: list[JsonValue], path: ClaimPath) -> list[JsonValue]:
        """§7.1 step 3.2.2 and 3.3.3: ``{"...": digest}`` elements, undisclosed ones removed."""
        out: list[JsonValue] = []
        for element in array:
            digest = _array_element_digest(element)
            if digest is None:
                out.append(self.value(element, (*path, len(out))))
                continue
            item = self.see(digest)
            if item is None:
                continue  # §7.1 step 3.4: not disclosed, or a decoy
            name, value, index = item
            if name is not None:
                raise DisclosureKindMismatch("object property disclosure used as array element")
            element_path = (*path, len(out))
            self.uses.append((index, element_path))
            out.append(self.value(value, element_path))
        return out


def _array_element_digest(element: JsonValue) -> str | None:
    if not isinstance(element, dict) or ELLIPSIS_KEY not in element:
        return None
    digest = element[ELLIPSIS_KEY]
    if len(element) != 1 or not isinstance(digest, str):
        raise MalformedSdJwt('an array element digest is exactly {"...": "<digest>"}')
    return digest


def sd_alg_of(payload: JsonObject, allowed: frozenset[str]) -> str:
    """RFC 9901 §4.1.1, §7.1 step 2.4: ``_sd_alg`` must be understood and allowed; an absent
    ``_sd_alg`` means sha-256."""
    sd_alg = payload.get(SD_ALG_KEY, DEFAULT_SD_ALG)
    if not isinstance(sd_alg, str) or sd_alg not in allowed or sd_alg not in HASH_ALGORITHMS:
        raise UnsupportedSdAlg("unsupported _sd_alg")
    return sd_alg


def process_items(
    payload: JsonObject,
    encoded: Sequence[str],
    items: Sequence[tuple[str, str | None, JsonValue]],
    sd_alg: str,
) -> tuple[JsonObject, list[tuple[int, ClaimPath]]]:
    """RFC 9901 §7.1 steps 3-5 over a signature-checked payload and the presented Disclosures,
    given as their strings (``encoded``) and, in the same order, decoded (``items``: salt,
    claim name or None, value).

    Returns the processed payload (``_sd``, ``_sd_alg``, ``...`` and decoys removed) and, for
    each Disclosure, its place in ``encoded`` and the path of the claim it revealed.
    """
    if len(encoded) != len(items):
        raise ValueError("one decoded item per Disclosure")
    new_hash = _HASHES[sd_alg]
    by_digest: dict[str, DisclosureItem] = {}
    for index in range(len(encoded)):
        # RFC 9901 §4.2.3: the digest is over the ASCII of the Disclosure as presented
        digest = _b2a(new_hash(encoded[index].encode("ascii")).digest(), newline=False)
        digest_text = digest.translate(_TO_URLSAFE).rstrip(b"=").decode("ascii")
        if digest_text in by_digest:
            raise DuplicateDisclosure("a disclosure is presented more than once")
        _, name, value = items[index]
        by_digest[digest_text] = (name, value, index)
    walk = _Walk(by_digest)
    claims = walk.object(payload, ())
    if len(walk.uses) != len(by_digest):
        raise UnreferencedDisclosure("a disclosure is not referenced by any digest")
    return claims, walk.uses


def process_payload(
    payload: JsonObject, disclosures: Sequence[Disclosure], sd_alg: str
) -> ProcessedPayload:
    """RFC 9901 §7.1 steps 3-5 over a signature-checked payload and the presented Disclosures.

    Returns the processed payload (``_sd``, ``_sd_alg``, ``...`` and decoys removed) and, for
    each Disclosure, the path of the claim it revealed.
    """
    claims, uses = process_items(
        payload,
        [disclosure.encoded for disclosure in disclosures],
        [(disclosure.salt, disclosure.name, disclosure.value) for disclosure in disclosures],
        sd_alg,
    )
    return ProcessedPayload(
        claims, tuple(DisclosureUse(disclosures[index], path) for index, path in uses)
    )
