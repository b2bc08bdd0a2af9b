"""PKCE (RFC 7636) at the token endpoint: the S256 check of a code_verifier, and the
character set both verifier and challenge are made of."""

from __future__ import annotations

import hashlib
import hmac
import string

from core import InvalidGrant, b64url

# RFC 7636 §4.1: ALPHA / DIGIT / "-" / "." / "_" / "~" (ASCII only; str.isalnum is Unicode)
PKCE_CHARSET = frozenset(string.ascii_letters + string.digits + "-._~")


def pkce_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6 with S256."""
    if not 43 <= len(verifier) <= 128 or not set(verifier) <= PKCE_CHARSET:
        return False
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return hmac.compare_digest(b64url(digest), challenge)


def check_code_verifier(verifier: str | None, challenge: str) -> None:
    """RFC 7636 §4.6. A code asked for without PKCE (a confidential client's nonce bound it,
    RFC 9700 §2.1.1) takes no code_verifier: one here would be a PKCE downgrade (§4.8.2)."""
    if not challenge:
        if verifier is not None:
            raise InvalidGrant("code_verifier sent, but the authorization request had no PKCE")
        return
    if not verifier or not pkce_matches(verifier, challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge")
