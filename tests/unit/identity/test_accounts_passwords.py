from __future__ import annotations

import pytest
from argon2 import extract_parameters

from identity.accounts.errors import PasswordRejected
from identity.accounts.passwords import OWASP_MINIMUM, Argon2Params, Passwords, check_policy
from tests.support.accounts import FAST_ARGON2

PASSWORD = "paarse olifant danst"


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(FAST_ARGON2)


def test_production_default_is_argon2id_with_at_least_owasp_parameters() -> None:
    assert OWASP_MINIMUM.memory_kib >= 19 * 1024
    assert OWASP_MINIMUM.time_cost >= 2
    assert OWASP_MINIMUM.parallelism >= 1
    stored = Passwords().hash(PASSWORD)
    assert stored.startswith("$argon2id$")
    params = extract_parameters(stored)
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2


def test_verify_accepts_the_password_and_rejects_others(passwords: Passwords) -> None:
    stored = passwords.hash(PASSWORD)
    assert PASSWORD not in stored
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "!")
    assert not passwords.verify("not-a-hash", PASSWORD)


def test_missing_hash_still_does_the_work_of_a_real_check(
    passwords: Passwords, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    original = passwords._verify

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return original(stored, password)

    monkeypatch.setattr(passwords, "_verify", spy)
    assert passwords.verify(None, PASSWORD) is False
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")
    # the dummy is made with the same parameters as real hashes, so it costs the same
    assert extract_parameters(checked[0]) == extract_parameters(passwords.hash(PASSWORD))


def test_hashes_with_other_parameters_need_rehash(passwords: Passwords) -> None:
    older = Passwords(Argon2Params(time_cost=1, memory_kib=16, parallelism=1)).hash(PASSWORD)
    assert passwords.needs_rehash(older)
    assert not passwords.needs_rehash(passwords.hash(PASSWORD))


@pytest.mark.parametrize(
    ("password", "email", "key"),
    [
        ("short", None, "accounts.error.password_short"),
        ("123456789", None, "accounts.error.password_short"),
        ("x" * 1025, None, "accounts.error.password_long"),
        ("Jan@Example.org", "jan@example.org", "accounts.error.password_is_email"),
        (" jan@example.org ", "jan@example.org", "accounts.error.password_is_email"),
    ],
)
def test_policy_rejects_short_long_and_email_passwords(
    password: str, email: str | None, key: str
) -> None:
    with pytest.raises(PasswordRejected) as caught:
        check_policy(password, email=email)
    assert caught.value.message_key == key
    assert caught.value.field == "password"


def test_policy_accepts_ten_characters_and_passphrases() -> None:
    check_policy("1234567890")
    check_policy("paarse olifant danst op het dak", email="jan@example.org")
