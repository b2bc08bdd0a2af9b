"""Errors of the keys package."""

from __future__ import annotations


class KeyError_(Exception):
    """Base class (named with a trailing underscore so it never shadows the builtin)."""


class NoActiveKey(KeyError_):
    def __init__(self, alg: str) -> None:
        super().__init__(f"no active {alg} signing key; run `kluis keys rotate --alg {alg}`")
        self.alg = alg


class UnknownKey(KeyError_):
    pass


class DecryptionFailed(KeyError_):
    """Ciphertext was altered, or the wrapping secret is not the one it was made with."""


class SubjectKeyDestroyed(KeyError_):
    """The resident's data key was destroyed (crypto-shredding): their data is unreadable."""


class UnknownKeyEncryptionKey(DecryptionFailed):
    """A key is wrapped under a key-encryption secret that is neither the current one nor one
    still accepted (a previous one, or the root). Only the wrap key's fingerprint is named."""

    def __init__(self, fingerprint: str) -> None:
        super().__init__(
            f"wrapped under key-encryption key {fingerprint}, which is neither the current one "
            "nor a previous one"
        )
        self.fingerprint = fingerprint


class UnwrappableKeys(KeyError_):
    """Stored keys that no configured key-encryption secret can unwrap, found before use."""

    def __init__(self, found: list[tuple[str, str, int]]) -> None:
        listed = ", ".join(f"{n} {label} under key {fp}" for label, fp, n in found)
        super().__init__(
            f"{listed}: wrapped under a key-encryption secret that is neither the current one "
            "nor a previous one; configure that secret as a previous key-encryption secret"
        )
        self.found = found
