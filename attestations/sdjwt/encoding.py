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

# binascii directly, without base64's wrappers: every JWS, Disclosure and digest goes through
# these, several times per verification (bench/README.md, `sdjwt` profile).
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# base64url to base64, and what base64 has besides (refused by strict_mode as "!")
_DECODE = bytes.maketrans(b"-_+/=", b"+/!!!")
_PAD = (b"", b"", b"==", b"=")  # by len % 4; 1 is refused before
_b2a = binascii.b2a_base64
_a2b = binascii.a2b_base64


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return _b2a(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, error: type[SdJwtError]) -> bytes:
    """Decode unpadded base64url, rejecting padding, whitespace and foreign characters.

    ``strict_mode`` refuses every byte outside the standard alphabet and misplaced padding.
    What it would accept besides base64url (``+``, ``/`` and ``=``) is translated to ``!``,
    which it refuses, in the same pass that maps ``-`` and ``_`` to ``+`` and ``/``: one scan in
    C instead of a regular expression (a third of the time of a decode, bench/README.md) or
    three ``in`` tests; the padding is added after it."""
    if not isinstance(text, str):
        raise error("invalid base64url")
    rest = len(text) % 4
    if rest == 1:
        raise error("invalid base64url")
    try:  # a non-ASCII character fails to encode: UnicodeEncodeError is a ValueError
        return _a2b(text.encode("ascii").translate(_DECODE) + _PAD[rest], strict_mode=True)
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


_scan_once = _DECODER.scan_once  # type: ignore[attr-defined]


def json_loads(data: bytes | str, error: type[SdJwtError]) -> JsonValue:
    """Parse UTF-8 JSON strictly; any failure is raised as ``error``."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        # The scanner alone, without JSONDecoder.decode's Python around it (two regular
        # expressions for the whitespace and two calls: a third of the time of parsing a
        # Disclosure). A text it does not take whole (whitespace around, an error) goes
        # through decode, which reads it as before or raises.
        try:
            value, end = _scan_once(text, 0)
        except (StopIteration, ValueError, RecursionError):
            end = -1
        if end != len(text):
            value = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise error("invalid JSON") from exc
    return value  # type: ignore[no-any-return]


def json_object(data: bytes | str, error: type[SdJwtError]) -> JsonObject:
    """Parse a JSON text that must be an object."""
    value = json_loads(data, error)
    if type(value) is not dict:  # the decoder makes plain dicts
        raise error("expected a JSON object")
    return value


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_copy(value: JsonValue) -> JsonValue:
    """A deep copy of parsed JSON (dicts, lists and immutable scalars), several times as fast
    as ``copy.deepcopy``, which must handle any object and shared references: scalars are
    taken over in the comprehension, only containers cost a call."""
    if type(value) is dict:
        return {
            key: member if type(member) in _JSON_SCALARS else json_copy(member)
            for key, member in value.items()
        }
    if type(value) is list:
        return [
            element if type(element) in _JSON_SCALARS else json_copy(element) for element in value
        ]
    if isinstance(value, dict):  # subclasses: the same, the slow way
        return {key: json_copy(member) for key, member in value.items()}
    if isinstance(value, list):
        return [json_copy(element) for element in value]
    return value


def one_shot_encoder(encoder: json.JSONEncoder) -> Callable[[JsonValue], str]:
    """``encoder.encode`` (no indent, ``check_circular`` ignored), with the C encoder built once:
    ``JSONEncoder.encode`` builds it on every call, which took longer than encoding a JWS
    payload. No cycle check: a cycle ends in RecursionError instead of ValueError (the values
    encoded here are built by this library, acyclic), and a dict of markers shared between calls
    could keep the ids of a failed call and refuse a later, unrelated value."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None or encoder.indent is not None:  # not CPython's accelerator
        return encoder.encode
    c_encoder = c_make_encoder(
        None,
        encoder.default,
        (
            json.encoder.encode_basestring_ascii
            if encoder.ensure_ascii
            else json.encoder.encode_basestring
        ),
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    join = "".join
    return lambda value: join(c_encoder(value, 0))


json_dumps = one_shot_encoder(_COMPACT)
json_dumps.__doc__ = "Compact JSON for JWS headers and payloads."


def digest(encoded: str, sd_alg: str) -> str:
    """RFC 9901 §4.2.3: base64url(hash(ASCII bytes of a base64url string or SD-JWT))."""
    return b64url_encode(_HASHES[sd_alg](encoded.encode("ascii")).digest())
