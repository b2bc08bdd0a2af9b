"""Another SD-JWT VC issuer on a loopback port, with its own key: JWT VC Issuer Metadata
(SD-JWT VC §4) pointing at its JWKS, and a Token Status List it signs. It issues credentials
with `attestations.sdjwt` (the library only, none of Kluis's issuance), so the verifier can be
shown to accept — or refuse — credentials it did not issue itself."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from attestations.sdjwt import issue_sd_jwt, public_jwk
from attestations.statuslist import INVALID, encode_list, pack
from tests.support.wallet import StoredCredential

KID = "other-issuer-1"
LIST_SIZE = 1024


@dataclass
class OtherIssuer:
    url: str = ""
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    revoked: set[int] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    next_idx: int = 0
    kid: str = KID
    claimed_issuer: str | None = None  # what its metadata says `issuer` is (default: url)

    @property
    def vct(self) -> str:
        return f"{self.url}/vct/membership"

    @property
    def status_uri(self) -> str:
        return f"{self.url}/status/1"

    def jwks(self) -> dict[str, Any]:
        jwk = {**public_jwk(self.key.public_key()), "kid": self.kid, "alg": "ES256", "use": "sig"}
        return {"keys": [jwk]}

    def issue(
        self, claims: dict[str, Any] | None = None, *, status: bool = True, vct: str | None = None
    ) -> tuple[StoredCredential, int]:
        """A credential (default: membership) bound to a fresh holder key, and its status
        index."""
        holder = ec.generate_private_key(ec.SECP256R1())
        idx, self.next_idx = self.next_idx, self.next_idx + 1
        clear: dict[str, Any] = {
            "iss": self.url,
            "vct": vct or self.vct,
            "exp": int(time.time()) + 3600,
        }
        if status:
            clear["status"] = {"status_list": {"idx": idx, "uri": self.status_uri}}
        body = claims or {"member_of": "Buurtvereniging Oost", "member_since": 2019}
        issued = issue_sd_jwt(
            {**clear, **body},
            issuer_key=self.key,
            disclosable=tuple((name,) for name in body),
            alg="ES256",
            typ="dc+sd-jwt",
            kid=self.kid,
            holder_key=public_jwk(holder.public_key()),
            iat=int(time.time()),
        )
        return StoredCredential(issued.serialize(), holder), idx

    def status_list_token(self) -> str:
        now = int(time.time())
        payload = {
            "sub": self.status_uri,
            "iat": now,
            "exp": now + 600,
            "status_list": {
                "bits": 1,
                "lst": encode_list(pack(((i, INVALID) for i in self.revoked), LIST_SIZE)),
            },
        }
        headers = {"typ": "statuslist+jwt", "kid": self.kid}
        return jwt.encode(payload, self.key, algorithm="ES256", headers=headers)

    def respond(self, path: str) -> tuple[int, str, bytes]:
        self.requests.append(path)
        if path == "/.well-known/jwt-vc-issuer":
            body = {"issuer": self.claimed_issuer or self.url, "jwks_uri": f"{self.url}/jwks"}
            return 200, "application/json", json.dumps(body).encode()
        if path == "/jwks":
            return 200, "application/json", json.dumps(self.jwks()).encode()
        if path == "/status/1":
            return 200, "application/statuslist+jwt", self.status_list_token().encode()
        return 404, "text/plain", b"not found"


def _handler(issuer: OtherIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, media_type, body = issuer.respond(self.path)
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextlib.contextmanager
def running_issuer() -> Iterator[OtherIssuer]:
    issuer = OtherIssuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(issuer))
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
