"""Kluis keys: signing keys (encrypted at rest, staged rotation, JWKS) and per-resident data
keys for crypto-shredding."""

from keys.crypto import derive_key
from keys.errors import (
    DecryptionFailed,
    NoActiveKey,
    SubjectKeyDestroyed,
    UnknownKey,
    UnknownKeyEncryptionKey,
    UnwrappableKeys,
)
from keys.kek import KeyEncryption
from keys.signing import Keyring, KeyState, KeyStatus
from keys.subject import SubjectKeys

__all__ = [
    "DecryptionFailed",
    "KeyEncryption",
    "KeyState",
    "KeyStatus",
    "Keyring",
    "NoActiveKey",
    "SubjectKeyDestroyed",
    "SubjectKeys",
    "UnknownKey",
    "UnknownKeyEncryptionKey",
    "UnwrappableKeys",
    "derive_key",
]
