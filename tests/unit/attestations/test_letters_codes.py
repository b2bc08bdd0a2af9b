"""Letter codes: enough entropy, an alphabet without look-alikes, forgiving typing, and only a
keyed hash stored."""

from __future__ import annotations

import hashlib
import math
from collections import Counter

import pytest

from attestations.letters.codes import (
    ALPHABET,
    CODE_LENGTH,
    ENTROPY_BITS,
    CodeHasher,
    MalformedCode,
    grouped,
    new_code,
    normalize_code,
)


def test_codes_carry_at_least_60_bits_from_an_alphabet_without_look_alikes() -> None:
    assert ENTROPY_BITS == CODE_LENGTH * math.log2(len(ALPHABET)) >= 60
    assert not set("01OILU") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 30


def test_new_codes_use_the_whole_alphabet_evenly_and_do_not_repeat() -> None:
    codes = [new_code() for _ in range(3000)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    counts = Counter("".join(codes))
    expected = len(codes) * CODE_LENGTH / len(ALPHABET)  # 1500 per symbol
    assert set(counts) == set(ALPHABET)
    assert all(abs(n - expected) < expected * 0.2 for n in counts.values())


def test_codes_are_grouped_in_threes_for_reading_aloud() -> None:
    assert grouped("K7M2PQX4RT9HNWC") == "K7M 2PQ X4R T9H NWC"
    assert grouped("K7M2PQX4RT9HNWC", "-") == "K7M-2PQ-X4R-T9H-NWC"


@pytest.mark.parametrize(
    "typed", ["K7M 2PQ X4R T9H NWC", "k7m-2pq-x4r-t9h-nwc", " K7M2PQX4RT9HNWC\t", "k7m2pqx4rt9hnwc"]
)
def test_typing_ignores_case_spaces_and_dashes(typed: str) -> None:
    assert normalize_code(typed) == "K7M2PQX4RT9HNWC"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "K7M2PQX4RT9HNW",
        "K7M2PQX4RT9HNWCC",
        "K7M2PQX4RT9HNW0",
        "K7M2PQX4RT9HNWO",
        "K7M2PQX4RT9HNWI",
    ],
)
def test_what_cannot_be_a_code_is_refused_without_echoing_it(typed: str) -> None:
    with pytest.raises(MalformedCode) as caught:
        normalize_code(typed)
    assert typed.strip() == "" or typed not in str(caught.value)


def test_the_stored_form_is_a_keyed_hash_that_needs_the_secret() -> None:
    code = new_code()
    hasher = CodeHasher(b"one-secret-0123456789abcdef0123456789")
    stored = hasher(code)
    assert stored == hasher(code) and len(stored) == 64 and code not in stored
    assert stored != hashlib.sha256(code.encode()).hexdigest()  # not guessable without the key
    assert stored != CodeHasher(b"another-secret-0123456789abcdef01234")(code)
