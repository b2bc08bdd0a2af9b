"""Canonical JSON: the same value always serialises to the same bytes (sorted keys, no
insignificant whitespace, UTF-8). Used where bytes are hashed or signed (audit log leaves)."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
