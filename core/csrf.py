"""CSRF protection for server-rendered forms (synchroniser token bound to a cookie).

The browser holds a random `kluis_csrf` cookie (HttpOnly, SameSite=Lax); every form carries
HMAC(csrf key, cookie value). A POST is accepted only when the two match. The key is derived
from the service secret for this purpose alone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CSRF_COOKIE = "kluis_csrf"
CSRF_FIELD = "csrf_token"


def new_cookie_value() -> str:
    return secrets.token_urlsafe(32)


def token_for(key: bytes, cookie_value: str) -> str:
    return hmac.new(key, cookie_value.encode(), hashlib.sha256).hexdigest()


def is_valid(key: bytes, cookie_value: str | None, submitted: str | None) -> bool:
    if not cookie_value or not submitted:
        return False
    return hmac.compare_digest(token_for(key, cookie_value), submitted)
