"""Kluis keys: signing keys (encrypted at rest, staged rotation, JWKS) and per-resident data
keys for crypto-shredding."""

from keys import models
from keys.cli import keys_cli
from keys.crypto import derive_key
from keys.errors import (
    DecryptionFailed,
    NoActiveKey,
    SubjectKeyDestroyed,
    UnknownKey,
    UnknownKeyEncryptionKey,
    UnwrappableKeys,
)
from keys.kek import CURRENT, ROOT, KeyEncryption
from keys.pending import PendingJwt
from keys.rewrap import (
    DEFAULT_BATCH_SIZE,
    UNKNOWN,
    Batch,
    WrappedTable,
    check_wrapped_keys,
    rotate_key_encryption,
    usage,
)
from keys.routers import ROUTERS
from keys.routes import JWKS_MAX_AGE_SECONDS
from keys.signing import SUPPORTED_ALGS, Keyring, KeyState, KeyStatus, active_kid_column
from keys.subject import SubjectKeys
from keys.successor import successor_started_column
from keys.web import keyring_of, subject_keys_of

__all__ = [
    "CURRENT",
    "DEFAULT_BATCH_SIZE",
    "JWKS_MAX_AGE_SECONDS",
    "ROOT",
    "ROUTERS",
    "SUPPORTED_ALGS",
    "UNKNOWN",
    "Batch",
    "DecryptionFailed",
    "KeyEncryption",
    "KeyState",
    "KeyStatus",
    "Keyring",
    "NoActiveKey",
    "PendingJwt",
    "SubjectKeyDestroyed",
    "SubjectKeys",
    "UnknownKey",
    "UnknownKeyEncryptionKey",
    "UnwrappableKeys",
    "WrappedTable",
    "active_kid_column",
    "check_wrapped_keys",
    "derive_key",
    "keyring_of",
    "keys_cli",
    "models",
    "rotate_key_encryption",
    "subject_keys_of",
    "successor_started_column",
    "usage",
]
