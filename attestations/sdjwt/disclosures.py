"""Disclosures (RFC 9901 §4.2): creation, strict decoding and digests."""

from __future__ import annotations

import binascii
import json
import os
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
    one_shot_encoder,
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
_encode = one_shot_encoder(_ENCODER)
_b2a = binascii.b2a_base64
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_urandom = os.urandom  # the OS CSPRNG, what secrets.token_bytes calls, without its frame


def random_salt() -> str:
    """A base64url-encoded 128-bit salt from the OS CSPRNG (RFC 9901 §4.2.1, §9.3)."""
    return b64url_encode(secrets.token_bytes(SALT_BYTES))


_URLSAFE_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SALT_CHARS = 22  # base64url of SALT_BYTES, unpadded: 21 characters of 6 bits and one of 2
# The 22nd character of a salt carries the last 2 bits; its 4 low bits are 0 (RFC 4648 §3.5).
# This table keeps a character's 2 high bits and clears its 4 low ones: a random character
# becomes a random one of "AQgw".
_LAST_CHAR = bytes.maketrans(
    _URLSAFE_ALPHABET, bytes(_URLSAFE_ALPHABET[i & 0b110000] for i in range(64))
)


def salt_batch(count: int) -> list[str]:
    """``count`` salts like ``random_salt``: each the base64url encoding of 16 bytes from the
    OS CSPRNG, all drawn in one read.

    Encoded together, not one by one: the base64 of random bytes is a string of random
    characters, 6 bits each, so 22 of them with the 4 low bits of the last one cleared are the
    encoding of 16 random bytes (128 bits), as ``random_salt`` would write it. One encoding
    and two translations instead of one encoding per salt (3 of an issuance's 45 µs).
    """
    chars = _SALT_CHARS * count
    raw = _urandom((chars + 3) // 4 * 3)  # whole 3-byte groups: no padding
    text = bytearray(_b2a(raw, newline=False).translate(_TO_URLSAFE))
    del text[chars:]
    last = slice(_SALT_CHARS - 1, None, _SALT_CHARS)  # the 22nd character of each salt
    text[last] = text[last].translate(_LAST_CHAR)
    salts = text.decode("ascii")
    return [salts[i : i + _SALT_CHARS] for i in range(0, chars, _SALT_CHARS)]


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
            pending.extend(salt_batch(size))
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


def disclosure_json(salt: str, name: str | None, value: JsonValue) -> str:
    """The JSON text of ``[salt, (name,) value]`` as ``json.dumps`` writes it (``ensure_ascii``
    off), with strings, booleans, integers and null written directly: building the JSON encoder
    for the array took longer than encoding it. ``value`` must be JSON (the issuer checks it)."""
    kind = type(value)
    if kind is str:
        text = encode_basestring(value)  # type: ignore[arg-type]
    elif kind is bool:
        text = "true" if value else "false"
    elif kind is int:
        text = int.__repr__(value)
    elif value is None:
        text = "null"
    else:  # floats (repr, NaN refused), containers (", " and ": " separators), subclasses
        text = _encode(value)
    salt_text = encode_basestring(salt) if type(salt) is str else _encode(salt)
    if name is None:
        return "[" + salt_text + ", " + text + "]"
    return "[" + salt_text + ", " + encode_basestring(name) + ", " + text + "]"


def new_disclosure(encoded: str, salt: str, name: str | None, value: JsonValue) -> Disclosure:
    """``Disclosure(encoded, salt, name, value)`` without the frozen dataclass's ``__init__``
    (one ``object.__setattr__`` per field): a Disclosure per claim is on the issuer's path."""
    disclosure = _new(Disclosure)
    disclosure.__dict__.update(encoded=encoded, salt=salt, name=name, value=value)
    return disclosure


_new = object.__new__


def create_disclosure(salt: str, name: str | None, value: JsonValue) -> Disclosure:
    """RFC 9901 §4.2.1/§4.2.2: JSON-encode ``[salt, (name,) value]`` and base64url it.

    The JSON uses the separators of the RFC's examples (and of the reference implementation),
    so that disclosures generated from the same salts are byte-identical to theirs.
    """
    if name in FORBIDDEN_CLAIM_NAMES:
        raise ForbiddenClaimName(f"claim name {name!r} is reserved")
    encoded = b64url_encode(disclosure_json(salt, name, value).encode("utf-8"))
    return new_disclosure(encoded, salt, name, value)


def decode_parts(encoded: str) -> tuple[str, str | None, JsonValue]:
    """Strictly decode a Disclosure string (RFC 9901 §4.2, §7.1 step 3.3.2): salt, claim name
    (None for an array element) and value."""
    if not encoded:
        raise MalformedDisclosure("empty disclosure")
    array = json_loads(b64url_decode(encoded, MalformedDisclosure), MalformedDisclosure)
    if type(array) is not list or not 2 <= len(array) <= 3:
        raise MalformedDisclosure("a disclosure is a JSON array of 2 or 3 elements")
    salt = array[0]
    if type(salt) is not str:
        raise MalformedDisclosure("the salt must be a string")
    if len(array) == 2:
        return salt, None, array[1]
    name = array[1]
    if type(name) is not str:
        raise MalformedDisclosure("the claim name must be a string")
    if name in FORBIDDEN_CLAIM_NAMES:
        raise ForbiddenClaimName(f"claim name {name!r} is reserved")
    return salt, name, array[2]


def decode_disclosure(encoded: str) -> Disclosure:
    """Strictly decode a Disclosure string (RFC 9901 §4.2, §7.1 step 3.3.2)."""
    return new_disclosure(encoded, *decode_parts(encoded))
