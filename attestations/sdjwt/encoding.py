"""base64url, strict JSON and digests shared by every part of the SD-JWT library.

RFC 9901 §4.2.3: digests are taken over the US-ASCII bytes of the base64url string, and the
digest bytes are base64url-encoded again. JSON parsing is strict (no duplicate member names,
no NaN/Infinity), so that this library and another parser cannot read different claims out of
the same bytes.
"""

from __future__ import annotations

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
_HASHES = {"sha-256": hashlib.sha256, "sha-384": hashlib.sha384, "sha-512": hashlib.sha512}
HASH_ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-384": lambda data: hashlib.sha384(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}
DEFAULT_SD_ALG = "sha-256"

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# binascii directly, without base64's wrappers: every JWS, Disclosure and digest goes through
# these, several times per verification (bench/README.md, `sdjwt` profile).
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_PADDING = ("", "", "==", "=")  # by len % 4; 1 is refused before


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    encoded = binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE)
    return encoded.rstrip(b"=").decode("ascii")


def b64url_decode(text: str, error: type[SdJwtError]) -> bytes:
    """Decode unpadded base64url, rejecting padding, whitespace and foreign characters."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise error("invalid base64url")
    padded = (text + _PADDING[len(text) % 4]).encode("ascii").translate(_FROM_URLSAFE)
    try:
        return binascii.a2b_base64(padded, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise error("invalid base64url") from exc


def _reject_constant(name: str) -> None:
    raise ValueError(f"JSON constant {name} is not allowed")


def _unique_members(pairs: list[tuple[str, JsonValue]]) -> JsonObject:
    obj: JsonObject = dict(pairs)
    if len(obj) != len(pairs):  # a repeated name collapsed into one member
        raise ValueError("duplicate JSON member name")
    return obj


# Built once: json.loads with arguments would build a decoder for every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_members, parse_constant=_reject_constant)
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_loads(data: bytes | str, error: type[SdJwtError]) -> JsonValue:
    """Parse UTF-8 JSON strictly; any failure is raised as ``error``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value: JsonValue = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise error("invalid JSON") from exc
    return value


def json_object(data: bytes | str, error: type[SdJwtError]) -> JsonObject:
    """Parse a JSON text that must be an object."""
    value = json_loads(data, error)
    if not isinstance(value, dict):
        raise error("expected a JSON object")
    return value


def json_copy(value: JsonValue) -> JsonValue:
    """A deep copy of parsed JSON (dicts, lists and immutable scalars), four times as fast as
    ``copy.deepcopy``, which must handle any object and shared references."""
    if isinstance(value, dict):
        return {key: json_copy(member) for key, member in value.items()}
    if isinstance(value, list):
        return [json_copy(element) for element in value]
    return value


def json_dumps(value: JsonValue) -> str:
    """Compact JSON for JWS headers and payloads."""
    return _COMPACT.encode(value)


def digest(encoded: str, sd_alg: str) -> str:
    """RFC 9901 §4.2.3: base64url(hash(ASCII bytes of a base64url string or SD-JWT))."""
    return b64url_encode(_HASHES[sd_alg](encoded.encode("ascii")).digest())
