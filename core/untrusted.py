"""Checks on untrusted text before anything parses or stores it.

Two kinds of input broke Kluis before these checks ran where requests are read
(`service.middleware.InputGuardMiddleware`):
- NUL characters: PostgreSQL text cannot hold them, so a `%00` in a path, query, form field,
  Basic credential or JSON string reached the driver and ended as a 500.
- Deeply nested JSON: Python's parser recurses, so ~1 000 nested brackets (3 KB) raised a
  RecursionError. JSON arrives as bodies, as form fields (`vp_token`, `claims`) and inside
  base64url segments of JWTs and SD-JWT disclosures; all of it is bounded here.

The checks never echo the input: their messages name what was wrong, not the value.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote

from core.tokens import unb64url

MAX_JSON_DEPTH = 32  # SD-JWT VCs, DCQL queries and OIDC claims requests nest a handful of levels
MAX_BODY_BYTES = 1024 * 1024
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
# compact JWS/JWE (dot-separated base64url) and SD-JWT (tilde-separated) texts
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_\-]+(?:[.~][A-Za-z0-9_\-]*)+")
_SEGMENT = re.compile(r"[.~]")
_NESTED_TOKEN_LEVELS = 2  # a JWT inside a JWT payload (e.g. a KB-JWT's sd_hash input) is enough
# In a form-urlencoded text (a query string, a form body) before decoding, what could decode to
# something `check_text` refuses (`_form_suspect`): a NUL or a JSON bracket, literal or escaped,
# or a name or value (text between `&`s and `=`s) made only of what could decode to the
# characters of a token (`_TOKEN_LIKE`, surrounding whitespace included) with a `.` or `~` in
# it. A text without any of these is not decoded at all (`check_form_text`); a text with one is
# decoded and checked in full. Possessive quantifiers: one pass, no backtracking.
_FORM_ESCAPED = re.compile(r"%(?:00|[57][Bb])")
_FORM_UNIT = r"(?:[A-Za-z0-9_\-+\s]++|%(?:2[0Dd]|3[0-9]|[014-689A-Fa-f][0-9A-Fa-f]|7[0-9A-Da-dFf]))"
_FORM_DOT = r"(?:[.~]|%2[Ee]|%7[Ee])"
_FORM_TOKEN = re.compile(rf"[&=]{_FORM_UNIT}*+{_FORM_DOT}(?:{_FORM_UNIT}|{_FORM_DOT})*+(?=[&=]|\Z)")


class UnsafeInput(ValueError):
    """The input cannot be processed safely. `reason` is safe to show to the sender."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def nested_too_deep(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in a JSON text nest deeper than `limit`, found without
    parsing it (so it cannot recurse): strings are blanked out, then the brackets counted."""
    if data.count(b"[") + data.count(b"{") <= limit:  # the common case, at C speed
        return False
    brackets = _BRACKET.findall(_STRING.sub(b'""', data))
    steps = (1 if b in (b"[", b"{") else -1 for b in brackets)
    return max(itertools.accumulate(steps, initial=0)) > limit


def check_json_text(data: bytes | str, level: int = 0) -> Any:
    """Parse a JSON text from outside after bounding its depth; every string in it is
    checked as `check_text` does. Returns the parsed value, or None if it is not JSON
    (what to do with that is the reader's business)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if nested_too_deep(raw):
        raise UnsafeInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    for text in _strings_in(value):
        check_text(text, level)
    return value


def check_text(value: str, level: int = 0) -> None:
    """Refuse NUL characters, and JSON too deep to parse safely, in a text from outside,
    including JSON inside it and inside the base64url segments of a token in it."""
    if "\x00" in value:
        raise UnsafeInput("NUL characters are not accepted")
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        check_json_text(stripped, level)
    elif level < _NESTED_TOKEN_LEVELS and _TOKEN_LIKE.fullmatch(stripped):
        for segment in _SEGMENT.split(stripped):
            decoded = _b64url_json(segment)
            if decoded is not None:
                check_json_text(decoded, level + 1)


def check_texts(values: Iterable[str]) -> None:
    for value in values:
        check_text(value)


def check_form_text(text: str) -> None:
    """`check_text` on every name and value of a form-urlencoded text (`parse_qsl`, blank
    values kept); decoded only if something in it could be refused."""
    if _form_suspect(text):
        check_texts(v for pair in parse_qsl(text, True) for v in pair)


def _form_suspect(text: str) -> bool:
    return (
        "\x00" in text
        or "{" in text
        or "[" in text
        or ("%" in text and _FORM_ESCAPED.search(text) is not None)
        or _FORM_TOKEN.search("&" + text) is not None  # "&": the first name starts a part too
    )


def check_basic_credentials(header: str) -> None:
    """RFC 6749 §2.3.1: client id and secret are form-urlencoded, then base64 encoded."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return  # malformed: client authentication answers invalid_client itself
    if "\x00" in decoded or "\x00" in unquote(decoded):
        raise UnsafeInput("NUL characters are not accepted")


def _b64url_json(segment: str) -> bytes | None:
    if len(segment) < 4:
        return None
    try:
        decoded = unb64url(segment)
    except (binascii.Error, ValueError):
        return None
    return decoded if decoded.lstrip()[:1] in (b"{", b"[") else None


def _strings_in(value: Any) -> Iterable[str]:
    """Every string (keys included) in a parsed JSON value of bounded depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings_in(item)
