"""Password hashing (Argon2id, RFC 9106) and the password policy.

Production parameters are OWASP's Password Storage Cheat Sheet minimum for Argon2id
(m = 19 MiB, t = 2, p = 1). Tests may pass weaker parameters to the constructor; nothing in
the configuration can lower them. Hashes made with older parameters are upgraded at the next
successful login (`needs_rehash`).
"""

from __future__ import annotations

import dataclasses
import functools
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from identity.accounts.errors import PasswordRejected

MIN_LENGTH = 10
MAX_LENGTH = 1024  # long enough for any passphrase, short enough to bound hashing work


@dataclasses.dataclass(frozen=True)
class Argon2Params:
    time_cost: int = 2
    memory_kib: int = 19 * 1024
    parallelism: int = 1


OWASP_MINIMUM = Argon2Params()


class Passwords:
    def __init__(self, params: Argon2Params = OWASP_MINIMUM) -> None:
        self.params = params
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; with no hash, spend the same time and say no."""
        if password_hash is None:
            self._verify(_dummy_hash(self.params), password)
            return False
        return self._verify(password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


@functools.cache
def _dummy_hash(params: Argon2Params) -> str:
    """Verified against when the account does not exist, so that answer takes as long as a
    real one. Made once per process and parameters, on first use (it costs a whole hash)."""
    hasher = PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        type=Type.ID,
    )
    return hasher.hash(secrets.token_urlsafe(16))


def check_policy(password: str, *, email: str | None = None) -> None:
    """Raise `PasswordRejected` (with a message key) unless the password is acceptable."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected("accounts.error.password_short")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected("accounts.error.password_long")
    if email and password.strip().lower() == email.strip().lower():
        raise PasswordRejected("accounts.error.password_is_email")
