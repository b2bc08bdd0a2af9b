"""What looks like personal data in text Kluis writes down about residents: one set of rules
for the audit log's details (`audit.record`) and for the free text operators type about an
erasure (its reason, how a platform was told; `rights.lifecycle`).

The rules are a last line of defence, not a classifier: they catch an e-mail address, a Dutch
postcode, a date (2026-12-04, 4-12-2026, 04/12/26) or a phone number typed where it does not
belong. URLs and opaque identifiers (hex digests, base64url tokens, uuids) are set aside
first: their random letters and digits would otherwise spell a postcode or a phone number now
and then, and a session id is never personal data.
"""

from __future__ import annotations

import re

# the field names that hold personal data, wherever they appear in structured details
PERSONAL_FIELDS = frozenset(
    {
        "email",
        "e_mail",
        "name",
        "given_name",
        "family_name",
        "postcode",
        "address",
        "birth_date",
        "birthdate",
        "date_of_birth",
        "bsn",
        "password",
        "phone",
    }
)
# set aside before the rules run: URLs (a credential type, a platform's address: their hosts
# and paths are not about a resident), and 16 or more characters of the base64url alphabet
# (Kluis's ids, hashes and tokens)
_OPAQUE = re.compile(r"[a-z][a-z0-9+.\-]*://\S+|[A-Za-z0-9_\-]{16,}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# a rule's match must stand apart: not glued to letters, digits, "_" or "-" on either side
_ALONE_BEFORE, _ALONE_AFTER = r"(?<![A-Za-z0-9_\-])", r"(?![A-Za-z0-9_\-])"
_POSTCODE = re.compile(_ALONE_BEFORE + r"[1-9][0-9]{3}\s?[A-Za-z]{2}" + _ALONE_AFTER)
# day-month-year or year-month-day with -, / or . between; an ISO timestamp (…T10:00) is a
# moment Kluis records, not a birth date, so a date glued to a time does not count
_DATE = re.compile(_ALONE_BEFORE + r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}" + _ALONE_AFTER)
# nine digits or more, alone or in groups split by single spaces or dashes (06 1234 5678)
_PHONE = re.compile(_ALONE_BEFORE + r"(?:\+|00)?\d(?:[\s-]?\d){8,}" + _ALONE_AFTER)
RULES = (
    ("an e-mail address", _EMAIL),
    ("a postcode", _POSTCODE),
    ("a date", _DATE),
    ("a phone number", _PHONE),
)


# The e-mail rule needs an "@", every other rule a digit: text with neither (most words and
# identifiers in audit details) is let through after one scan.
_MAY_MATCH = re.compile(r"[\d@]").search
# The rules after the e-mail one as one pattern: it matches somewhere exactly when one of them
# does, so the text left after setting opaque runs aside is scanned once, not once per rule.
_ANY_RULE = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in RULES[1:]))


def personal_data_in(text: str) -> str | None:
    """What personal data `text` seems to hold ("a postcode", …), or None."""
    if not _MAY_MATCH(text):
        return None
    if _EMAIL.search(text):  # before opaque runs are set aside: a local part can be long
        return RULES[0][0]
    rest = _OPAQUE.sub(" ", text)
    if not _ANY_RULE.search(rest):
        return None
    for kind, pattern in RULES[1:]:  # name the first rule that matches, as before
        if pattern.search(rest):
            return kind
    return None
