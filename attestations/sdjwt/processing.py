"""Replacing embedded digests by disclosed claims: RFC 9901 §7.1 steps 3 to 5.

Shared by the Holder (which processes the SD-JWT with all Disclosures, §7.2) and the Verifier.
Besides the RFC's MUSTs this is strict about the reserved keys: ``_sd`` must be an array of
strings, ``...`` may only appear as the sole key of an array element, and ``_sd_alg`` only at
the top level (RFC 9901 §4.1 rule 7, §4.1.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from attestations.sdjwt.disclosures import ELLIPSIS_KEY, SD_ALG_KEY, SD_KEY, Disclosure
from attestations.sdjwt.encoding import DEFAULT_SD_ALG, HASH_ALGORITHMS, JsonObject, JsonValue
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


@dataclass
class _Walk:
    by_digest: dict[str, Disclosure]
    seen: set[str] = field(default_factory=set)
    uses: list[DisclosureUse] = field(default_factory=list)

    def see(self, digest: str) -> Disclosure | None:
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
        for key, member in obj.items():
            if key == ELLIPSIS_KEY:
                raise MalformedSdJwt("'...' is only allowed as an array element digest")
            if key == SD_ALG_KEY and path:
                raise MalformedSdJwt("_sd_alg is only allowed at the top level")
            if key not in (SD_KEY, SD_ALG_KEY):
                out[key] = self.value(member, (*path, key))
        if SD_KEY in obj:
            self.sd_members(obj, out, path)
        return out

    def sd_members(self, obj: JsonObject, out: JsonObject, path: ClaimPath) -> None:
        listed = obj[SD_KEY]
        digests = [d for d in listed if isinstance(d, str)] if isinstance(listed, list) else []
        if not isinstance(listed, list) or len(digests) != len(listed):
            raise MalformedSdJwt("_sd must be an array of strings")
        for digest in digests:
            disclosure = self.see(digest)
            if disclosure is None:
                continue  # not disclosed, or a decoy
            name = disclosure.name
            if name is None:
                raise DisclosureKindMismatch("array element disclosure referenced from _sd")
            if name in obj or name in out:
                raise ClaimNameCollision("disclosed claim name already exists at its level")
            member_path = (*path, name)
            self.uses.append(DisclosureUse(disclosure, member_path))
            out[name] = self.value(disclosure.value, member_path)

    def array(self, array: list[JsonValue], path: ClaimPath) -> list[JsonValue]:
        """§7.1 step 3.2.2 and 3.3.3: ``{"...": digest}`` elements, undisclosed ones removed."""
        out: list[JsonValue] = []
        for element in array:
            digest = _array_element_digest(element)
            if digest is None:
                out.append(self.value(element, (*path, len(out))))
                continue
            disclosure = self.see(digest)
            if disclosure is None:
                continue  # §7.1 step 3.4: not disclosed, or a decoy
            if disclosure.name is not None:
                raise DisclosureKindMismatch("object property disclosure used as array element")
            element_path = (*path, len(out))
            self.uses.append(DisclosureUse(disclosure, element_path))
            out.append(self.value(disclosure.value, element_path))
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


def process_payload(
    payload: JsonObject, disclosures: Sequence[Disclosure], sd_alg: str
) -> ProcessedPayload:
    """RFC 9901 §7.1 steps 3-5 over a signature-checked payload and the presented Disclosures.

    Returns the processed payload (``_sd``, ``_sd_alg``, ``...`` and decoys removed) and, for
    each Disclosure, the path of the claim it revealed.
    """
    by_digest: dict[str, Disclosure] = {}
    for disclosure in disclosures:
        digest = disclosure.digest(sd_alg)
        if digest in by_digest:
            raise DuplicateDisclosure("a disclosure is presented more than once")
        by_digest[digest] = disclosure
    walk = _Walk(by_digest)
    claims = walk.object(payload, ())
    if len(walk.uses) != len(by_digest):
        raise UnreferencedDisclosure("a disclosure is not referenced by any digest")
    return ProcessedPayload(claims, tuple(walk.uses))
