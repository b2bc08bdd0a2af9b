"""Reading rendered pages in tests."""

from __future__ import annotations

import re

from tests.support.audit import FRACTION_OF_A_SECOND

# ids and tokens: uuid hex (32), token_urlsafe (43), each a run of base64url characters; and a
# moment's fraction of a second, whose six digits hold "1087" about once in three thousand (the
# date and time themselves stay: a birth date written as a moment is still found)
_RANDOM_RUN = re.compile(rf"[A-Za-z0-9_-]{{20,}}|{FRACTION_OF_A_SECOND.pattern}")


def shows(html: str, value: str) -> bool:
    """Whether ``value`` stands in ``html`` outside its random ids, tokens and fractions of a
    second: a page with a dozen hex ids holds "1087" inside one of them about once in four
    hundred renderings."""
    return value in _RANDOM_RUN.sub(" ", html)
