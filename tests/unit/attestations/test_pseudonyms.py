"""Per-poll pseudonyms: stable per resident and poll, different across polls and platforms,
and different between the verifier (anonymous QR) and the OIDC claim (next to `sub`)."""

from __future__ import annotations

import pytest

from identity.oidc.pseudonyms import (
    POLL_PSEUDONYM_KEY_LABEL,
    oidc_poll_pseudonym,
    poll_pseudonym_key,
    resident_poll_pseudonym,
    valid_poll_id,
)
from keys import derive_key

KEY = poll_pseudonym_key(b"test-secret-0123456789abcdef-0123456789")
SECTOR = "buurt.example.nl"


def test_same_resident_same_poll_same_platform_is_equal() -> None:
    first = resident_poll_pseudonym(KEY, SECTOR, "buurtbudget-2027", "a" * 32)
    assert first == resident_poll_pseudonym(KEY, SECTOR, "buurtbudget-2027", "a" * 32)


def test_another_poll_another_platform_or_another_resident_differs() -> None:
    base = resident_poll_pseudonym(KEY, SECTOR, "buurtbudget-2027", "a" * 32)
    assert base != resident_poll_pseudonym(KEY, SECTOR, "speeltuin-2027", "a" * 32)
    assert base != resident_poll_pseudonym(KEY, "stem.example.nl", "buurtbudget-2027", "a" * 32)
    assert base != resident_poll_pseudonym(KEY, SECTOR, "buurtbudget-2027", "b" * 32)


def test_the_oidc_pseudonym_never_equals_the_verifiers_for_the_same_resident_and_poll() -> None:
    for poll in ("buurtbudget-2027", "p", "x" * 128):
        for account in ("a" * 32, "b" * 32):
            verifier = resident_poll_pseudonym(KEY, SECTOR, poll, account)
            assert oidc_poll_pseudonym(KEY, SECTOR, poll, account) != verifier


def test_the_oidc_pseudonym_is_stable_and_differs_per_poll_platform_and_resident() -> None:
    base = oidc_poll_pseudonym(KEY, SECTOR, "buurtbudget-2027", "a" * 32)
    assert base == oidc_poll_pseudonym(KEY, SECTOR, "buurtbudget-2027", "a" * 32)
    assert base != oidc_poll_pseudonym(KEY, SECTOR, "speeltuin-2027", "a" * 32)
    assert base != oidc_poll_pseudonym(KEY, "stem.example.nl", "buurtbudget-2027", "a" * 32)
    assert base != oidc_poll_pseudonym(KEY, SECTOR, "buurtbudget-2027", "b" * 32)


def test_another_key_gives_another_pseudonym() -> None:
    other = poll_pseudonym_key(b"another-secret-0123456789abcdef-01234567")
    assert resident_poll_pseudonym(KEY, SECTOR, "p", "a" * 32) != resident_poll_pseudonym(
        other, SECTOR, "p", "a" * 32
    )


def test_the_key_is_derived_for_this_purpose_only() -> None:
    assert derive_key(b"test-secret-0123456789abcdef-0123456789", POLL_PSEUDONYM_KEY_LABEL) == KEY
    assert derive_key(b"test-secret-0123456789abcdef-0123456789", "kluis/other") != KEY


@pytest.mark.parametrize("poll_id", ["", "met spatie", "x" * 129, "caf\u00e9", "tab\there", None])
def test_bad_poll_ids_are_refused(poll_id: object) -> None:
    assert not valid_poll_id(poll_id)
    with pytest.raises(ValueError):
        resident_poll_pseudonym(KEY, SECTOR, poll_id, "acc")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        oidc_poll_pseudonym(KEY, SECTOR, poll_id, "acc")  # type: ignore[arg-type]


def test_good_poll_ids_are_accepted() -> None:
    assert valid_poll_id("buurtbudget-2027")
    assert valid_poll_id("x" * 128)
    assert valid_poll_id("!~#/:")
