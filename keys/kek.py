"""Key-encryption keys (KEKs): the wrap keys that signing keys and residents' data keys are
stored under, and how a rotation of the key-encryption secret is made safe.

A wrap key is derived per purpose from a key-encryption secret (HKDF, `keys.crypto`). Every
wrapped row records the *fingerprint* of the wrap key that sealed it: a 64-bit HMAC tag
computed with that key, which identifies the key without revealing anything about it. Unwrap
picks the key by fingerprint; new wraps always use the current secret's key.

Three kinds of secret are accepted for unwrapping:

- the *current* key-encryption secret, which alone wraps;
- *previous* ones, still accepted while a rotation (`kluis secret rotate`) moves rows off them;
- the *root* secret (`KLUIS_SECRET_KEY`), under which every key was wrapped before the
  key-encryption secret existed. It is always configured anyway (stable identifiers derive
  from it), so accepting it costs nothing and no deployment needs a migration step. Rows from
  before fingerprints were recorded (NULL) were wrapped under it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Sequence

from keys.crypto import derive_key, seal, unseal
from keys.errors import UnknownKeyEncryptionKey

FINGERPRINT_LENGTH = 16  # hex characters: 64 bits, plenty to tell a handful of keys apart
_FINGERPRINT_LABEL = b"kluis/keys/kek-fingerprint"

CURRENT = "current"
ROOT = "root"


def previous_name(index: int) -> str:
    """The name of the `index`-th (1-based) previous secret, in the order configured."""
    return f"previous-{index}"


def fingerprint(wrap_key: bytes) -> str:
    """A short public identifier of a wrap key (a key check value: HMAC of a fixed label)."""
    tag = hmac.new(wrap_key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()
    return tag[:FINGERPRINT_LENGTH]


@dataclasses.dataclass(frozen=True)
class WrapKey:
    name: str  # CURRENT, previous-N or ROOT: which configured secret it comes from
    fingerprint: str
    key: bytes = dataclasses.field(repr=False)


class WrapKeys:
    """The wrap keys of one purpose: the current one seals, every accepted one unseals."""

    def __init__(self, keys: Sequence[WrapKey], legacy_fingerprint: str) -> None:
        if not keys or keys[0].name != CURRENT:
            raise ValueError("the current wrap key comes first")
        self.current = keys[0]
        self._by_fingerprint: dict[str, WrapKey] = {}
        for key in keys:  # a secret configured twice keeps its first (most current) name
            self._by_fingerprint.setdefault(key.fingerprint, key)
        self.legacy_fingerprint = legacy_fingerprint

    def resolve(self, fingerprint: str | None) -> WrapKey | None:
        """The accepted wrap key with this fingerprint (NULL: the root's), or None."""
        return self._by_fingerprint.get(fingerprint or self.legacy_fingerprint)

    def name_of(self, fingerprint: str | None) -> str | None:
        key = self.resolve(fingerprint)
        return key.name if key else None

    def is_current(self, fingerprint: str | None) -> bool:
        return fingerprint == self.current.fingerprint

    def seal(self, plaintext: bytes, associated: bytes) -> tuple[bytes, str]:
        """Wrap under the current key; returns the ciphertext and the fingerprint to store."""
        return seal(self.current.key, plaintext, associated), self.current.fingerprint

    def unseal(self, blob: bytes, associated: bytes, fingerprint: str | None) -> bytes:
        key = self.resolve(fingerprint)
        if key is None:
            raise UnknownKeyEncryptionKey(fingerprint or self.legacy_fingerprint)
        return unseal(key.key, blob, associated)


class KeyEncryption:
    """The configured key-encryption secrets.

    `current` wraps; `previous` (oldest last, by convention) and `root` are accepted for
    unwrapping only. Without a separate key-encryption secret, `current` *is* the root, and
    the wrap keys are exactly the ones Kluis always derived from it.
    """

    def __init__(
        self, current: bytes, previous: Sequence[bytes] = (), root: bytes | None = None
    ) -> None:
        self._secrets: list[tuple[str, bytes]] = [(CURRENT, current)]
        self._secrets += [(previous_name(i), s) for i, s in enumerate(previous, start=1)]
        self._root = current if root is None else root
        self._secrets.append((ROOT, self._root))

    @property
    def separate(self) -> bool:
        """Whether a key-encryption secret other than the root is configured."""
        return self._secrets[0][1] != self._root

    def for_purpose(self, purpose: str) -> WrapKeys:
        keys = []
        for name, secret in self._secrets:
            key = derive_key(secret, purpose)
            keys.append(WrapKey(name=name, fingerprint=fingerprint(key), key=key))
        return WrapKeys(keys, legacy_fingerprint=keys[-1].fingerprint)


def as_key_encryption(secret: bytes | KeyEncryption) -> KeyEncryption:
    """A bare secret (tests, one-secret deployments) is the current and root secret at once."""
    return secret if isinstance(secret, KeyEncryption) else KeyEncryption(secret)
