"""The one set of "looks like personal data" rules (`core.personal`), used by the audit log
and by erasure reasons: what they catch, and that Kluis's own opaque identifiers never trip
them (a session id once spelled a postcode by chance and failed a request with a 500)."""

from __future__ import annotations

import random
import secrets
import string

import pytest

from core.personal import _EMAIL, _OPAQUE, RULES, personal_data_in

ID_ALPHABETS = (string.ascii_letters + string.digits + "-_", string.hexdigits.lower())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("verzoek van jan@example.org", "an e-mail address"),
        ("jan@example", "an e-mail address"),
        ("woont op 1087 AB", "a postcode"),
        ("1087ab.", "a postcode"),
        ("geboren 17-05-1990", "a date"),
        ("geboren 1990/05/17", "a date"),
        ("op 3.4.2026 verhuisd", "a date"),
        ("bel +31 6 1234 5678", "a phone number"),
        ("tel 0612345678", "a phone number"),
    ],
)
def test_personal_data_is_named_by_kind(text: str, kind: str) -> None:
    assert personal_data_in(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "ticket 4521 van de balie",
        "12 accounts, 3 grants",
        "2026-12-04T10:00:00Z",  # a moment Kluis records, not a birth date
        "http://127.0.0.1:8000/vct/age",  # a URL's host and path are not about a resident
        "https://kluis.example/status/2024-05-01",
        "kc_abcdefghijkl1087AB",
        "sess-1087AB",  # glued to an id's other characters
        "abc-2019-01-02-xyz",
    ],
)
def test_ordinary_text_and_identifiers_pass(text: str) -> None:
    assert personal_data_in(text) is None


@pytest.mark.parametrize("alphabet", ID_ALPHABETS, ids=["base64url", "hex"])
@pytest.mark.parametrize("length", [8, 12, 16, 22, 32, 43, 64])
def test_random_identifiers_never_look_personal(alphabet: str, length: int) -> None:
    # 2 000 draws per shape: the old rules flagged about one base64url id in a few thousand
    ids = ["".join(secrets.choice(alphabet) for _ in range(length)) for _ in range(2000)]
    # a short all-digit string is a phone number's shape; from 16 characters on (E.164 numbers
    # have at most 15 digits) every identifier is set aside
    flagged = [i for i in ids if (length >= 16 or not i.isdigit()) and personal_data_in(i)]
    assert flagged == []


def test_an_identifier_that_contains_a_postcode_shape_passes() -> None:
    assert personal_data_in("Zx81087AB-kq") is None
    assert personal_data_in("x_1087AB") is None


def _rule_by_rule(text: str) -> str | None:
    """The rules applied one after another, without the shortcuts `personal_data_in` takes."""
    if _EMAIL.search(text):
        return RULES[0][0]
    rest = _OPAQUE.sub(" ", text)
    return next((kind for kind, pattern in RULES[1:] if pattern.search(rest)), None)


def test_the_shortcuts_name_exactly_what_the_rules_one_by_one_name() -> None:
    # short texts over an alphabet that makes every rule (and its near misses) come up often
    rng = random.Random(14)
    alphabet = "0123456789" * 3 + "٣@ -/.+_AbZkq" + "\t"
    texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 24))) for _ in range(20_000)]
    texts += ["email", "platform0", "claims", "", "@", "٣٣٣٣ AB"]
    found = {kind: 0 for kind, _ in RULES}
    for text in texts:
        kind = personal_data_in(text)
        assert kind == _rule_by_rule(text), text
        if kind is not None:
            found[kind] += 1
    assert all(found.values()), found  # every rule was exercised, and some texts passed
    assert sum(found.values()) < len(texts)
