"""Random one-time values and their storage form.

Codes, tokens and secrets are 256-bit random values; the database stores only their SHA-256
(a fast hash suffices for values with that much entropy). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def matches(value: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(value), stored_hash)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Inverse of `b64url`: unpadded base64url, padded and decoded as leniently as
    `base64.urlsafe_b64decode` (binascii.Error, a ValueError, when it is not base64 at all).
    Strict decoding, for what is signed, is `attestations.sdjwt`'s."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
