"""Settings of the verifier and the URLs it derives from the issuer identifier. The service
builds one `VerifierConfig` from its settings at start (`service.runtime.build_runtime`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from adapters import Fetcher
from attestations.verifier.x509 import RequestSigner, request_signer

REDIRECT_URI_PREFIX = "redirect_uri"
X509_SAN_DNS_PREFIX = "x509_san_dns"
WALLET_SCHEME = "openid4vp://"


@dataclass(frozen=True)
class VerifierConfig:
    issuer: str
    session_ttl: dt.timedelta = dt.timedelta(minutes=5)
    result_ttl: dt.timedelta = dt.timedelta(minutes=2)
    # HMAC key for per-poll pseudonyms (derived from the secret key, purpose-bound)
    pseudonym_key: bytes = b""
    # HMAC key of the widget tokens (`widget.widget_token`), purpose-bound like the above
    widget_key: bytes = b""
    # PEM key and certificate chain files: `x509_san_dns:` with signed request objects;
    # None: `redirect_uri:` (development)
    x509_files: tuple[Path, Path] | None = None
    # fetches other trusted issuers' keys and status lists (None: only Kluis is trusted)
    fetcher: Fetcher | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))

    @property
    def signer(self) -> RequestSigner | None:
        """The request-object signer of `x509_files`, read again only when a file changes,
        so a renewed certificate is used without a restart."""
        if self.x509_files is None:
            return None
        key_file, chain_file = self.x509_files
        return request_signer(key_file, chain_file, self.issuer)

    @property
    def response_uri(self) -> str:
        return f"{self.issuer}/verifier/response"

    @property
    def client_id(self) -> str:
        """OpenID4VP §5.9.3: `x509_san_dns:<host>` when a certificate chain is configured,
        else `redirect_uri:<response_uri>` (the Response URI is the Client Identifier)."""
        if self.signer is not None:
            return f"{X509_SAN_DNS_PREFIX}:{self.signer.dns_name}"
        return f"{REDIRECT_URI_PREFIX}:{self.response_uri}"

    def request_uri(self, session_id: str) -> str:
        return f"{self.issuer}/verifier/request/{session_id}"

    def status_url(self, session_id: str) -> str:
        return f"{self.issuer}/verifier/sessions/{session_id}"

    def _query(self, session_id: str) -> str:
        return urlencode({"client_id": self.client_id, "request_uri": self.request_uri(session_id)})

    def qr_payload(self, session_id: str) -> str:
        """The cross-device Authorization Request (§5.1, JAR by reference)."""
        return f"{WALLET_SCHEME}?{self._query(session_id)}"

    def widget_page(self, session_id: str) -> str:
        """Kluis's hosted verification page of a session (the token goes in its query)."""
        return f"{self.issuer}/verify/{session_id}"

    def universal_link(self, session_id: str) -> str:
        return f"{self.issuer}/verifier/open?{self._query(session_id)}"
