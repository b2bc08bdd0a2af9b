"""What an audit entry may hold, checked before anything is written: its event, actor and
subject reference by pattern, and its details against personal data (`record` refuses what
looks like a name, an e-mail address, a postcode or a birth date), spelled as canonical JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from orjson import OPT_SORT_KEYS, JSONEncodeError, dumps

from core import PERSONAL_FIELDS, canonical_json, personal_data_in

# Matched whole (`$` would let a trailing newline through). What they accept is printable
# ASCII without quotes or backslashes, which JSON spells as it is (see `audit.record._spell`).
EVENT_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
ACTOR_PATTERN = re.compile(r"[a-z][a-z_]*(:[A-Za-z0-9._~\-]{1,128})?")
SUBJECT_REF_PATTERN = re.compile(r"[0-9a-f]{64}")


class PersonalDataInAudit(ValueError):
    """A caller tried to put something that looks like personal data into the audit log."""


def _check_details(details: Any, path: str = "details") -> None:
    if isinstance(details, Mapping):
        for key, value in details.items():
            if str(key).lower() in PERSONAL_FIELDS:
                raise PersonalDataInAudit(f"{path}.{key} is a personal-data field")
            _check_details(value, f"{path}.{key}")
    elif isinstance(details, list | tuple):
        for i, value in enumerate(details):
            _check_details(value, f"{path}[{i}]")
    elif isinstance(details, str) and (kind := personal_data_in(details)):
        raise PersonalDataInAudit(f"{path} looks like {kind}")


# `_clean`'s answers: refused, clean, and clean but holding what the two encoders of
# `_checked` might spell differently (a float, a subclass, any other type)
_REFUSED, _PLAIN, _ODD = 0, 1, 2
_PLAIN_SCALARS = (int, bool, type(None))  # hold no text; orjson spells them as json does


def _clean(value: Any, texts: set[str], keys: set[str]) -> int:
    """Whether `value` passes `_check_details` (`_REFUSED` if not), without building paths,
    for the plain JSON types (anything else gets `_check_details` itself), and whether it
    holds only those (`_PLAIN`) or more (`_ODD`). `texts` and `keys` hold the strings that
    passed already in this batch: each distinct string is checked once."""
    kind = type(value)
    if kind is dict:
        for key in value:
            if key not in keys:
                if type(key) is not str or key.lower() in PERSONAL_FIELDS:
                    # a refused or unusual key: the checks as they are
                    return _ODD if _passes(value) else _REFUSED
                keys.add(key)
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        items = None
    if items is not None:
        found = _PLAIN
        for item in items:
            kind = type(item)
            if kind is str:
                if item not in texts:
                    if personal_data_in(item):
                        return _REFUSED
                    texts.add(item)
            elif kind not in _PLAIN_SCALARS:
                inner = _clean(item, texts, keys)
                if inner == _REFUSED:
                    return _REFUSED
                found |= inner
        return found
    if kind is str:
        return _PLAIN if value in texts or not personal_data_in(value) else _REFUSED
    if kind in _PLAIN_SCALARS:
        return _PLAIN
    return _ODD if _passes(value) else _REFUSED


def _passes(value: Any) -> bool:
    try:
        _check_details(value)
    except PersonalDataInAudit:
        return False
    return True


class Pending(NamedTuple):
    """One entry for `record_many`: the arguments of `record` after the session."""

    event: str
    actor: str
    subject_ref: str | None = None
    details: Mapping[str, Any] | None = None


def _check_names(event_name: str, actor: str, subject_ref: str | None) -> None:
    if not isinstance(event_name, str) or not EVENT_PATTERN.fullmatch(event_name):
        raise ValueError(f"audit event {event_name!r} is not a dotted lower-case name")
    if not isinstance(actor, str) or not ACTOR_PATTERN.fullmatch(actor):
        raise ValueError("audit actor must be a role optionally followed by ':<opaque id>'")
    if subject_ref is not None and not (
        isinstance(subject_ref, str) and SUBJECT_REF_PATTERN.fullmatch(subject_ref)
    ):
        raise ValueError("audit subject_ref must be an opaque 64-hex reference")


def _checked(items: list[Pending]) -> list[str]:
    """Every item's details as canonical JSON; the first item refused raises. Each distinct
    (event, actor, subject) and each distinct string is checked once per batch. Details of
    the plain JSON types are spelled by orjson (sorted keys, no spaces, UTF-8, escapes as
    `json`'s: a test compares the two), others by the standard library's encoder."""
    names: set[tuple[str, str, str | None]] = set()
    texts: set[str] = set()
    keys: set[str] = set()
    encode = _canonical_encoder()
    checked = []
    for event_name, actor, subject_ref, details in items:
        if (event_name, actor, subject_ref) not in names:
            _check_names(event_name, actor, subject_ref)
            names.add((event_name, actor, subject_ref))
        if type(details) is not dict:
            details = dict(details or {})
        found = _clean(details, texts, keys)
        if found == _REFUSED:
            _check_details(details)  # raises, naming where
            raise AssertionError("the details checks disagree")  # pragma: no cover
        if found == _PLAIN:
            try:  # the same text as `encode`'s, in a quarter of the time
                checked.append(dumps(details, option=OPT_SORT_KEYS).decode())
                continue
            except JSONEncodeError:  # an integer past 64 bits, a lone surrogate, deep nesting
                pass
        text = "".join(encode(details, 0))
        if not text.isascii():
            text.encode()  # refuses what UTF-8 cannot hold (lone surrogates) before any write
        checked.append(text)
    return checked


def _canonical_encoder() -> Callable[[Any, int], Sequence[str]]:
    """`canonical_json`'s encoder without its per-call set-up: `JSONEncoder.encode` builds a
    new C encoder for every value; one per batch does (a fresh one: it keeps the containers
    it is inside of, for its circular-reference check). Its chunks join to the same text."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover (CPython has it)
        return lambda value, _level: [canonical_json(value).decode()]
    default = json.JSONEncoder().default  # the TypeError canonical_json raises
    encoder: Callable[[Any, int], Sequence[str]] = make(
        {}, default, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    return encoder
