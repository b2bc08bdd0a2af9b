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
