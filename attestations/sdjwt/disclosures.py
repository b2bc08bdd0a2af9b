"""Disclosures (RFC 9901 §4.2): creation, strict decoding and digests."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring

from attestations.sdjwt.encoding import (
    JsonValue,
    b64url_decode,
    b64url_encode,
    digest,
    json_loads,
)
from attestations.sdjwt.errors import ForbiddenClaimName, MalformedDisclosure

SD_KEY = "_sd"
ELLIPSIS_KEY = "..."
SD_ALG_KEY = "_sd_alg"
FORBIDDEN_CLAIM_NAMES = frozenset({SD_KEY, ELLIPSIS_KEY})
SALT_BYTES = 16  # 128 bits, RFC 9901 §9.3

SaltSource = Callable[[], str]
# json.dumps with arguments would build an encoder for every Disclosure.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def random_salt() -> str:
    """A base64url-encoded 128-bit salt from the OS CSPRNG (RFC 9901 §4.2.1, §9.3)."""
    return b64url_encode(secrets.token_bytes(SALT_BYTES))


def batched_salts(batch: int) -> SaltSource:
    """Salts like ``random_salt``, drawn ``batch`` at a time from the OS CSPRNG.

    One ``getrandom`` call per batch instead of one per Disclosure: on a busy machine the system
    calls were the largest single item of an issuance's profile (bench/README.md, `sdjwt`).
    The batch lives in this closure only, one issuance long, so no drawn bytes outlive it or
    cross a fork.
    """
    pending: list[str] = []
    size = max(batch, 1)

    def next_salt() -> str:
        if not pending:
            raw = secrets.token_bytes(SALT_BYTES * size)
            pending.extend(
                b64url_encode(raw[i : i + SALT_BYTES]) for i in range(0, len(raw), SALT_BYTES)
            )
        return pending.pop()

    return next_salt


@dataclass(frozen=True)
class Disclosure:
    """One Disclosure: ``[salt, name, value]`` for an object property, ``[salt, value]`` for
    an array element (``name`` is then ``None``). ``encoded`` is the exact base64url string,
    which is what digests are computed over (RFC 9901 §4.2.3)."""

    encoded: str
    salt: str
    name: str | None
    value: JsonValue

    def digest(self, sd_alg: str) -> str:
        """RFC 9901 §4.2.3: the digest that references this Disclosure."""
        return digest(self.encoded, sd_alg)


def create_disclosure(salt: str, name: str | None, value: JsonValue) -> Disclosure:
    """RFC 9901 §4.2.1/§4.2.2: JSON-encode ``[salt, (name,) value]`` and base64url it.

    The JSON uses the separators of the RFC's examples (and of the reference implementation),
    so that disclosures generated from the same salts are byte-identical to theirs.
    """
    if name in FORBIDDEN_CLAIM_NAMES:
        raise ForbiddenClaimName(f"claim name {name!r} is reserved")
    array: list[JsonValue] = [salt, value] if name is None else [salt, name, value]
    # what json.dumps(array) writes, with strings encoded directly: building the JSON encoder
    # for the array took longer than encoding it
    members = [encode_basestring(m) if isinstance(m, str) else _ENCODER.encode(m) for m in array]
    encoded = b64url_encode(("[" + ", ".join(members) + "]").encode("utf-8"))
    return Disclosure(encoded, salt, name, value)


def decode_disclosure(encoded: str) -> Disclosure:
    """Strictly decode a Disclosure string (RFC 9901 §4.2, §7.1 step 3.3.2)."""
    if not encoded:
        raise MalformedDisclosure("empty disclosure")
    array = json_loads(b64url_decode(encoded, MalformedDisclosure), MalformedDisclosure)
    if not isinstance(array, list) or len(array) not in (2, 3):
        raise MalformedDisclosure("a disclosure is a JSON array of 2 or 3 elements")
    salt = array[0]
    if not isinstance(salt, str):
        raise MalformedDisclosure("the salt must be a string")
    if len(array) == 2:
        return Disclosure(encoded, salt, None, array[1])
    name = array[1]
    if not isinstance(name, str):
        raise MalformedDisclosure("the claim name must be a string")
    if name in FORBIDDEN_CLAIM_NAMES:
        raise ForbiddenClaimName(f"claim name {name!r} is reserved")
    return Disclosure(encoded, salt, name, array[2])
