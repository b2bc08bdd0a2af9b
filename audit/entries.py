"""What an audit entry may hold, checked before anything is written: its event, actor and
subject reference by pattern, and its details against personal data (`record` refuses what
looks like a name, an e-mail address, a postcode or a birth date), spelled as canonical JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from core import PERSONAL_FIELDS, canonical_json, personal_data_in

# Matched whole (`$` would let a trailing newline through). What they accept is printable
# ASCII without quotes or backslashes, which JSON spells as it is (see `audit.record._spell`).
EVENT_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
ACTOR_PATTERN = re.compile(r"[a-z][a-z_]*(:[A-Za-z0-9._~\-]{1,128})?")
SUBJECT_REF_PATTERN = re.compile(r"[0-9a-f]{64}")

_SCALARS = (int, float, bool, type(None))  # hold no text, so no personal data


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


def _clean(value: Any, texts: set[str], keys: set[str]) -> bool:
    """Whether `value` passes `_check_details`, without building paths, for the plain JSON
    types (anything else gets `_check_details` itself). `texts` and `keys` hold the strings
    that passed already in this batch: each distinct string is checked once."""
    kind = type(value)
    if kind is dict:
        for key in value:
            if key not in keys:
                if type(key) is not str or key.lower() in PERSONAL_FIELDS:
                    return _passes(value)  # a refused or unusual key: the checks as they are
                keys.add(key)
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        items = None
    if items is not None:
        for item in items:
            if type(item) is str:
                if item not in texts:
                    if personal_data_in(item):
                        return False
                    texts.add(item)
            elif type(item) not in _SCALARS and not _clean(item, texts, keys):
                return False
        return True
    if kind is str:
        return value in texts or not personal_data_in(value)
    return kind in _SCALARS or _passes(value)


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
    (event, actor, subject) and each distinct string is checked once per batch."""
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
        if not _clean(details, texts, keys):
            _check_details(details)  # raises, naming where
            raise AssertionError("the details checks disagree")  # pragma: no cover
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
