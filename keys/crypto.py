"""Symmetric primitives: purpose-bound key derivation and authenticated encryption.

Every secret Kluis uses is derived from a configured secret with HKDF-SHA256, the purpose
being the HKDF `info`, so no two features share a key: stable identifiers from the root secret,
the wrap keys of stored keys from the key-encryption secret (`keys.kek`). Encryption is
AES-256-GCM with a random 96-bit nonce and the owner's identifier as associated data, so a
ciphertext moved to another row does not decrypt.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from keys.errors import DecryptionFailed

_VERSION = b"\x01"
_NONCE_BYTES = 12


def derive_key(secret: bytes, purpose: str, length: int = 32) -> bytes:
    """RFC 5869 HKDF-SHA256 with the purpose as `info` (one key per purpose)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=b"kluis", info=purpose.encode()
    ).derive(secret)


def seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, associated)


def unseal(key: bytes, blob: bytes, associated: bytes) -> bytes:
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
        raise DecryptionFailed("ciphertext is truncated or of an unknown version")
    nonce = blob[1 : 1 + _NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + _NONCE_BYTES :], associated)
    except InvalidTag as exc:
        raise DecryptionFailed("ciphertext does not authenticate") from exc
