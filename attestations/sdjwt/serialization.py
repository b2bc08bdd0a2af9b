"""The two serializations of an SD-JWT / SD-JWT+KB.

Compact (RFC 9901 §4): ``<Issuer-signed JWT>~<Disclosure 1>~...~<Disclosure N>~[<KB-JWT>]``.
JWS JSON (RFC 9901 §8): flattened or general JWS JSON Serialization with the ``disclosures`` and
``kb_jwt`` unprotected header parameters (in the first signature's header for the general form).
The reference implementation 0.10.4 puts those two members at the top level of the JSON object
instead; that layout is accepted only when a caller asks for it (``legacy_json_layout``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from attestations.sdjwt.encoding import JsonObject, JsonValue, b64url_decode, json_object
from attestations.sdjwt.errors import MalformedSdJwt

SEPARATOR = "~"
DISCLOSURES_MEMBER = "disclosures"
KB_JWT_MEMBER = "kb_jwt"
_COMPACT_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-"


def only_compact_chars(text: str) -> bool:
    """Whether ``text`` is made of base64url characters, "." and "~" only (what a regular
    expression checked, at a third of its time on a presentation): nothing may be left of
    its ASCII bytes once those are deleted (in C)."""
    return text.isascii() and not text.encode("ascii").translate(None, _COMPACT_BYTES)


_FLATTENED_MEMBERS = frozenset({"payload", "protected", "header", "signature"})
_GENERAL_MEMBERS = frozenset({"payload", "signatures"})
_SIGNATURE_MEMBERS = frozenset({"protected", "header", "signature"})
_LEGACY_MEMBERS = frozenset({DISCLOSURES_MEMBER, KB_JWT_MEMBER})


@dataclass(frozen=True)
class SdJwtParts:
    """An SD-JWT split into its parts, nothing verified yet.

    ``issuer_jwts`` holds one compact JWS per signature (several only in the general JSON
    serialization); the first is the one the ``sd_hash`` covers (RFC 9901 §8.1).
    """

    issuer_jwts: tuple[str, ...]
    disclosures: tuple[str, ...]
    kb_jwt: str | None

    @property
    def sd_jwt(self) -> str:
        """The compact SD-JWT without KB-JWT: the input of ``sd_hash`` (RFC 9901 §4.3.1)."""
        return format_compact(self.issuer_jwts[0], self.disclosures)


def format_compact(issuer_jwt: str, disclosures: tuple[str, ...], kb_jwt: str = "") -> str:
    """RFC 9901 §4: tilde-separated parts; without KB-JWT the string ends with ``~``."""
    return SEPARATOR.join((issuer_jwt, *disclosures, kb_jwt))


def parse_sd_jwt(text: str, *, legacy_json_layout: bool = False) -> SdJwtParts:
    """Split a compact or JWS JSON serialized SD-JWT (+KB) into its parts."""
    issuer_jwts, disclosures, kb_jwt, _ = split_sd_jwt(text, legacy_json_layout=legacy_json_layout)
    return SdJwtParts(issuer_jwts, disclosures, kb_jwt)


SplitSdJwt = tuple[tuple[str, ...], tuple[str, ...], str | None, str]


def split_sd_jwt(text: str, *, legacy_json_layout: bool = False) -> SplitSdJwt:
    """``parse_sd_jwt`` as a tuple (Issuer-signed JWTs, Disclosures, KB-JWT or None), and the
    compact SD-JWT without KB-JWT that ``sd_hash`` covers (``SdJwtParts.sd_jwt``)."""
    if not isinstance(text, str) or not text:
        raise MalformedSdJwt("an SD-JWT is a non-empty string")
    if text.startswith("{"):
        issuer_jwts, disclosures, kb_jwt = _parse_json(text, legacy_json_layout)
        return issuer_jwts, disclosures, kb_jwt, format_compact(issuer_jwts[0], disclosures)
    return _parse_compact(text)


def _parse_compact(text: str) -> SplitSdJwt:
    if not text or not only_compact_chars(text):
        raise MalformedSdJwt("unexpected character in compact SD-JWT")
    parts = text.split(SEPARATOR)
    if len(parts) < 2:
        raise MalformedSdJwt("a compact SD-JWT contains at least one '~'")
    disclosures = tuple(parts[1:-1])
    if "" in disclosures:
        raise MalformedSdJwt("empty disclosure between '~' separators")
    kb_jwt = parts[-1]
    # what format_compact(parts[0], disclosures) writes: the text up to its last "~"
    return (parts[0],), disclosures, kb_jwt or None, text[: len(text) - len(kb_jwt)]


def _string(value: JsonValue, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedSdJwt(f"{what} must be a non-empty string")
    return value


def _unprotected(entry: JsonObject) -> JsonObject:
    header = entry.get("header", {})
    if not isinstance(header, dict):
        raise MalformedSdJwt("the unprotected header must be an object")
    protected = json_object(
        b64url_decode(_string(entry.get("protected"), "protected"), MalformedSdJwt), MalformedSdJwt
    )
    if set(header) & set(protected):
        raise MalformedSdJwt("protected and unprotected header parameters overlap")
    return header


def _signature_entries(obj: JsonObject) -> list[JsonObject]:
    if "signatures" not in obj:
        return [obj]
    entries = obj["signatures"]
    if not isinstance(entries, list) or not entries:
        raise MalformedSdJwt("signatures must be a non-empty array")
    if not all(isinstance(e, dict) and set(e) <= _SIGNATURE_MEMBERS for e in entries):
        raise MalformedSdJwt("unexpected member in a signature object")
    return [e for e in entries if isinstance(e, dict)]


def _parse_json(text: str, legacy: bool) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    obj = json_object(text, MalformedSdJwt)
    allowed = _GENERAL_MEMBERS if "signatures" in obj else _FLATTENED_MEMBERS
    if not set(obj) <= allowed | (_LEGACY_MEMBERS if legacy else frozenset()):
        raise MalformedSdJwt("unexpected member in JWS JSON serialization")
    payload = _string(obj.get("payload"), "payload")
    entries = _signature_entries(obj)
    headers = [_unprotected(entry) for entry in entries]
    if any(_LEGACY_MEMBERS & set(header) for header in headers[1:]):
        raise MalformedSdJwt("disclosures and kb_jwt belong in the first unprotected header")
    carrier = headers[0]
    if _LEGACY_MEMBERS & set(obj):
        if _LEGACY_MEMBERS & set(carrier):
            raise MalformedSdJwt("disclosures or kb_jwt given twice")
        carrier = obj
    jwts = tuple(
        f"{entry['protected']}.{payload}.{_string(entry.get('signature'), 'signature')}"
        for entry in entries
    )
    return jwts, _disclosure_list(carrier), _kb_jwt(carrier)


def _disclosure_list(carrier: JsonObject) -> tuple[str, ...]:
    listed = carrier.get(DISCLOSURES_MEMBER, [])
    if not isinstance(listed, list):
        raise MalformedSdJwt("disclosures must be an array of strings")
    return tuple(_string(item, "a disclosure") for item in listed)


def _kb_jwt(carrier: JsonObject) -> str | None:
    if KB_JWT_MEMBER not in carrier:
        return None
    return _string(carrier[KB_JWT_MEMBER], "kb_jwt")


def to_json_serialization(sd_jwt: str, *, general: bool = False) -> str:
    """Re-serialize a compact SD-JWT (+KB) as RFC 9901 §8 flattened or general JWS JSON."""
    issuer_jwts, disclosures, kb_jwt, _ = _parse_compact(sd_jwt)
    pieces = issuer_jwts[0].split(".")
    if len(pieces) != 3:
        raise MalformedSdJwt("the Issuer-signed JWT is not a compact JWS")
    protected, payload, signature = pieces
    header: JsonObject = {DISCLOSURES_MEMBER: list(disclosures)}
    if kb_jwt is not None:
        header[KB_JWT_MEMBER] = kb_jwt
    entry: JsonObject = {"protected": protected, "header": header, "signature": signature}
    if general:
        return json.dumps({"payload": payload, "signatures": [entry]})
    return json.dumps({"payload": payload, **entry})
