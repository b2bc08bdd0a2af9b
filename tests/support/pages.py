"""Reading rendered pages in tests."""

from __future__ import annotations

import re

# ids and tokens: uuid hex (32), token_urlsafe (43), each a run of base64url characters; and
# ISO 8601 moments, whose microseconds hold "1087" about once in three thousand
_RANDOM_RUN = re.compile(r"[A-Za-z0-9_-]{20,}|\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+-][\d:]+)?")


def shows(html: str, value: str) -> bool:
    """Whether ``value`` stands in ``html`` outside its random ids, tokens and moments: a page
    with a dozen hex ids holds "1087" inside one of them about once in four hundred
    renderings."""
    return value in _RANDOM_RUN.sub(" ", html)
