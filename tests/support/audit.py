"""Reading a JSON record (an audit entry, a CLI listing) as a person would, for tests that look
for personal data in it."""

import json
import re
from collections.abc import Iterator
from typing import Any

# Hex digests and base64url hashes or ids: a personal value can appear inside one only by chance
# (``"1087"`` inside a SHA-256 hex string), which says nothing about what the record discloses.
# An actor such as ``"desk:<reference>"`` is a role and a 64-hex reference.
_OPAQUE = re.compile(r"[a-z_]+:[0-9a-f]{64}|[0-9a-f]{16,}|[A-Za-z0-9_-]{32,}")
# A moment's fraction of a second, the only run of digits in it that chance fills (``.108712``);
# the date and time themselves stay readable (a birth date written as a moment is found).
FRACTION_OF_A_SECOND = re.compile(r"(?<=\d\d:\d\d:\d\d)\.\d+")


def readable_values(record: str | Any) -> list[str]:
    """Every key and value of the record (JSON text or parsed), as text, except digests and
    identifiers, and without the fractions of a second of its moments."""
    parsed = json.loads(record) if isinstance(record, str) else record
    return [
        FRACTION_OF_A_SECOND.sub("", value)
        for value in _leaves(parsed)
        if not _OPAQUE.fullmatch(value)
    ]


def discloses(record: str | Any, needle: str) -> bool:
    """Whether a readable key or value of the record contains ``needle``."""
    return any(needle in value for value in readable_values(record))


def _leaves(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _leaves(value)
    elif node is not None:
        yield str(node)
