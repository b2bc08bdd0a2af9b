"""The verification widget's view of a platform's session (domain only, no HTTP).

The widget (`/widget/kluis-verify.js`) and the hosted page (`/verify/{id}`) run in the
resident's browser, so they cannot authenticate as the platform. They hold a *widget token*
instead: an HMAC of the session id under a purpose-bound key, given to the platform when it
creates the session. The session id alone is not enough: it is in the QR code, and the
pairing code must reach only the screen that shows that QR code (`wallet.pairing`), not anyone
who photographed or was forwarded it.

What a widget token reads is the session's state and, while the built-in wallet asks for it,
the pairing code: never the result, which stays between Kluis and the platform's server.

Cross-origin reads (the widget on the platform's page) are allowed only for the platform's
own origins: those of its registered redirect URIs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from attestations.verifier.config import VerifierConfig
from attestations.verifier.errors import InvalidSessionRequest, SessionNotFound
from attestations.verifier.models import VerifierSession
from attestations.wallet.models import WalletPairing
from core import b64url
from identity import get_client

MAX_RETURN_URI = 2000
PLATFORM_KIND = "platform"  # Kluis's own login sessions have no widget


def widget_token(config: VerifierConfig, session_id: str) -> str:
    """The token that lets a browser follow `session_id` (deterministic: nothing stored)."""
    if not config.widget_key:
        raise RuntimeError("VerifierConfig.widget_key is not set")
    mac = hmac.new(config.widget_key, f"widget:{session_id}".encode(), hashlib.sha256)
    return b64url(mac.digest())


def widget_links(config: VerifierConfig, row: VerifierSession) -> dict[str, str]:
    """What the platform's server gives its page: the token, and the hosted page's URL."""
    token = widget_token(config, row.id)
    return {"widget_token": token, "widget_url": f"{config.widget_page(row.id)}?token={token}"}


def widget_session(
    session: Session, config: VerifierConfig, session_id: str, token: str | None
) -> VerifierSession:
    """The platform session `token` was made for; `SessionNotFound` for a wrong token, an
    unknown session and Kluis's own login sessions alike (no oracle)."""
    expected = widget_token(config, session_id)
    if not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise SessionNotFound()
    row = session.get(VerifierSession, session_id)
    if row is None or row.kind != PLATFORM_KIND or row.client_id is None:
        raise SessionNotFound()
    return row


def widget_status(session: Session, row: VerifierSession, status: str) -> dict[str, Any]:
    """`{status, pairing_code?}`: the state only, never the result or a claim. `status` is
    the session's effective status (expiry is computed on read)."""
    body: dict[str, Any] = {"status": status}
    if status == "scanned":
        pairing = session.get(WalletPairing, row.id)
        if pairing is not None and pairing.paired_at is None:
            body["pairing_code"] = pairing.code
    return body


def origin_of(uri: str) -> str:
    """RFC 6454 serialisation `scheme://host[:port]` (default ports left out)."""
    parts = urlsplit(uri)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    port = parts.port
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def platform_origins(redirect_uris: Iterable[str]) -> frozenset[str]:
    return frozenset(origin_of(uri) for uri in redirect_uris)


def allowed_origins(session: Session, row: VerifierSession) -> frozenset[str]:
    """The origins whose pages may read this session's state: the platform's own."""
    client = get_client(session, row.client_id) if row.client_id is not None else None
    return platform_origins(client.redirect_uris) if client is not None else frozenset()


def check_return_uri(session: Session, client_id: str, value: Any) -> str | None:
    """An optional `return_uri`: an absolute URL on the same origin as one of the client's
    registered redirect URIs, so the hosted page never sends a
    resident to a site the operator did not register for this platform."""
    if value is None:
        return None
    pointer = "/return_uri"
    if not isinstance(value, str) or not value or len(value) > MAX_RETURN_URI:
        raise InvalidSessionRequest(
            f"return_uri must be a URL of at most {MAX_RETURN_URI} characters", pointer=pointer
        )
    try:
        parts, origin = urlsplit(value), origin_of(value)
    except ValueError:  # an unbalanced "[" or a port that is not a number
        raise InvalidSessionRequest("return_uri is not a valid URL", pointer=pointer) from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidSessionRequest("return_uri must be an absolute URL", pointer=pointer)
    if "#" in value or parts.username is not None or parts.password is not None:
        raise InvalidSessionRequest(
            "return_uri must not contain a fragment or credentials", pointer=pointer
        )
    # the registered redirect URIs were checked at registration (https, or http on loopback)
    client = get_client(session, client_id)
    if client is None or origin not in platform_origins(client.redirect_uris):
        raise InvalidSessionRequest(
            "return_uri must be on the origin of one of the platform's redirect URIs",
            pointer=pointer,
        )
    return value
