"""The Holder: receiving an SD-JWT and presenting selected claims (RFC 9901 §7.2, §4.3).

Claims are selected by path in the fully disclosed credential, e.g. ``("address", "locality")``
or ``("nationalities", 1)``; ``None`` as an array index selects every element. Selecting a claim
also selects the Disclosures of its parents (RFC 9901 §4.2.6), never those of its children.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from attestations.sdjwt import jws
from attestations.sdjwt.disclosures import Disclosure, decode_disclosure
from attestations.sdjwt.encoding import HASH_ALGORITHMS, JsonObject, JsonValue
from attestations.sdjwt.errors import (
    ClaimNotFound,
    KbUnexpected,
    MalformedSdJwt,
    PresentationError,
)
from attestations.sdjwt.jwk import PrivateKey
from attestations.sdjwt.keybinding import create_key_binding_jwt
from attestations.sdjwt.processing import ClaimPath, process_payload, sd_alg_of
from attestations.sdjwt.serialization import format_compact, parse_sd_jwt

HolderPath = tuple[str | int | None, ...]


def _step_matches(selected: str | int | None, actual: str | int) -> bool:
    return selected == actual or (selected is None and isinstance(actual, int))


def _is_prefix(path: ClaimPath, selected: HolderPath) -> bool:
    return len(path) <= len(selected) and all(
        _step_matches(s, p) for p, s in zip(path, selected, strict=False)
    )


def _exists(value: JsonValue, path: HolderPath) -> bool:
    if not path:
        return True
    step, rest = path[0], path[1:]
    if isinstance(value, dict) and isinstance(step, str):
        return step in value and _exists(value[step], rest)
    if isinstance(value, list) and step is None:
        return all(_exists(element, rest) for element in value)
    if isinstance(value, list) and isinstance(step, int) and not isinstance(step, bool):
        return 0 <= step < len(value) and _exists(value[step], rest)
    return False


@dataclass(frozen=True)
class HeldSdJwt:
    """An issued SD-JWT as the Holder keeps it, with every Disclosure resolved.

    ``paths[i]`` is where ``disclosures[i]`` sits in ``claims`` (the fully disclosed payload).
    """

    issuer_jwt: str
    header: JsonObject
    payload: JsonObject
    sd_alg: str
    disclosures: tuple[Disclosure, ...]
    paths: tuple[ClaimPath, ...]
    claims: JsonObject

    @classmethod
    def parse(cls, sd_jwt: str, *, legacy_json_layout: bool = False) -> HeldSdJwt:
        """RFC 9901 §7.2 step 1: process the SD-JWT as in §7.1, except the Issuer signature,
        which a Holder checks with ``verify_sd_jwt`` when it has the Issuer's key."""
        parts = parse_sd_jwt(sd_jwt, legacy_json_layout=legacy_json_layout)
        if parts.kb_jwt is not None:
            raise KbUnexpected("the Issuer sends an SD-JWT, not an SD-JWT+KB")
        jwt = jws.parse_compact(parts.issuer_jwts[0], MalformedSdJwt)
        sd_alg = sd_alg_of(jwt.payload, frozenset(HASH_ALGORITHMS))
        disclosures = tuple(decode_disclosure(d) for d in parts.disclosures)
        processed = process_payload(jwt.payload, disclosures, sd_alg)
        path_of = {use.disclosure.encoded: use.path for use in processed.uses}
        paths = tuple(path_of[d.encoded] for d in disclosures)
        return cls(
            parts.issuer_jwts[0],
            jwt.header,
            jwt.payload,
            sd_alg,
            disclosures,
            paths,
            processed.claims,
        )

    def select(self, paths: Iterable[HolderPath]) -> tuple[Disclosure, ...]:
        """The Disclosures that reveal the selected claims and their parents, issuance order."""
        selected = tuple(tuple(p) for p in paths)
        for path in selected:
            if any(isinstance(s, bool) or not isinstance(s, str | int | None) for s in path):
                raise PresentationError(f"invalid claim path {path!r}")
            if not path or not _exists(self.claims, path):
                raise ClaimNotFound(f"no claim at {path!r}")
        return tuple(
            disclosure
            for disclosure, path in zip(self.disclosures, self.paths, strict=True)
            if any(_is_prefix(path, chosen) for chosen in selected)
        )

    def present(
        self,
        paths: Iterable[HolderPath],
        *,
        holder_key: PrivateKey | Mapping[str, Any] | None = None,
        nonce: str | None = None,
        audience: str | None = None,
        iat: int | None = None,
        alg: str = "ES256",
    ) -> str:
        """RFC 9901 §7.2: an SD-JWT with the selected Disclosures, plus a KB-JWT when
        ``holder_key``, ``nonce`` and ``audience`` are given (all three or none)."""
        disclosures = tuple(d.encoded for d in self.select(paths))
        sd_jwt = format_compact(self.issuer_jwt, disclosures)
        binding = (holder_key, nonce, audience)
        if all(item is None for item in binding):
            return sd_jwt
        if holder_key is None or nonce is None or audience is None:
            raise PresentationError("key binding needs holder_key, nonce and audience")
        kb_jwt = create_key_binding_jwt(
            sd_jwt,
            holder_key=holder_key,
            nonce=nonce,
            audience=audience,
            iat=iat,
            alg=alg,
            sd_alg=self.sd_alg,
        )
        return sd_jwt + kb_jwt
