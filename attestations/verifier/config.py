"""Settings of the verifier and the URLs it derives from the issuer identifier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

CLIENT_ID_PREFIX = "redirect_uri"
WALLET_SCHEME = "openid4vp://"


@dataclass(frozen=True)
class VerifierConfig:
    issuer: str
    session_ttl: dt.timedelta = dt.timedelta(minutes=5)
    result_ttl: dt.timedelta = dt.timedelta(minutes=2)
    # HMAC key for per-poll pseudonyms (derived from the secret key, purpose-bound)
    pseudonym_key: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))

    @property
    def response_uri(self) -> str:
        return f"{self.issuer}/verifier/response"

    @property
    def client_id(self) -> str:
        """OpenID4VP §5.9.3 `redirect_uri:` prefix: the Response URI is the Client Identifier.
        (`x509_san_dns:` with a certificate chain is still to come.)"""
        return f"{CLIENT_ID_PREFIX}:{self.response_uri}"

    def request_uri(self, session_id: str) -> str:
        return f"{self.issuer}/verifier/request/{session_id}"

    def status_url(self, session_id: str) -> str:
        return f"{self.issuer}/verifier/sessions/{session_id}"

    def _query(self, session_id: str) -> str:
        return urlencode({"client_id": self.client_id, "request_uri": self.request_uri(session_id)})

    def qr_payload(self, session_id: str) -> str:
        """The cross-device Authorization Request (§5.1, JAR by reference)."""
        return f"{WALLET_SCHEME}?{self._query(session_id)}"

    def universal_link(self, session_id: str) -> str:
        return f"{self.issuer}/verifier/open?{self._query(session_id)}"
