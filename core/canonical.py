"""Canonical JSON: the same value always serialises to the same bytes (sorted keys, no
insignificant whitespace, UTF-8). Used where bytes are hashed or signed (audit log leaves)."""

from __future__ import annotations

import json
from typing import Any

# One encoder for every call: `json.dumps` with these options would build a new one each time.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    return _ENCODER.encode(value).encode("utf-8")
