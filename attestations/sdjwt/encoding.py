"""base64url, strict JSON and digests shared by every part of the SD-JWT library.

RFC 9901 §4.2.3: digests are taken over the US-ASCII bytes of the base64url string, and the
digest bytes are base64url-encoded again. JSON parsing is strict (no duplicate member names,
no NaN/Infinity), so that this library and another parser cannot read different claims out of
the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from typing import TypeAlias

from attestations.sdjwt.errors import SdJwtError

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = dict[str, JsonValue]

# Hash Name Strings from the IANA "Named Information Hash Algorithm" registry (RFC 9901 §4.1.1).
HASH_ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-384": lambda data: hashlib.sha384(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}
DEFAULT_SD_ALG = "sha-256"

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, error: type[SdJwtError]) -> bytes:
    """Decode unpadded base64url, rejecting padding, whitespace and foreign characters."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise error("invalid base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise error("invalid base64url") from exc


def _reject_constant(name: str) -> None:
    raise ValueError(f"JSON constant {name} is not allowed")


def _unique_members(pairs: list[tuple[str, JsonValue]]) -> JsonObject:
    obj: JsonObject = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate JSON member name")
        obj[key] = value
    return obj


def json_loads(data: bytes | str, error: type[SdJwtError]) -> JsonValue:
    """Parse UTF-8 JSON strictly; any failure is raised as ``error``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value: JsonValue = json.loads(
            text, object_pairs_hook=_unique_members, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise error("invalid JSON") from exc
    return value


def json_object(data: bytes | str, error: type[SdJwtError]) -> JsonObject:
    """Parse a JSON text that must be an object."""
    value = json_loads(data, error)
    if not isinstance(value, dict):
        raise error("expected a JSON object")
    return value


def json_dumps(value: JsonValue) -> str:
    """Compact JSON for JWS headers and payloads."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def digest(encoded: str, sd_alg: str) -> str:
    """RFC 9901 §4.2.3: base64url(hash(ASCII bytes of a base64url string or SD-JWT))."""
    return b64url_encode(HASH_ALGORITHMS[sd_alg](encoded.encode("ascii")))
