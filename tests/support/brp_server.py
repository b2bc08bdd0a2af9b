"""A local registry on loopback for the end-to-end tests: an HTTP server that answers
`POST …/personen` as the Haal Centraal BRP API does, through the contract fake of
`tests.support.brp_contract` (every request is checked against the official OpenAPI contract;
a request that breaks it is answered 400 and recorded in `violations`, so the test fails).
With `tls`, it speaks HTTPS and demands a client certificate, as the BRP API does of a
PKIoverheid certificate (`tests.support.tls_certs`); `client_subjects` records who came."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.support.brp_contract import ContractFake, ContractViolation, contract_fake

BASE_PATH = "/haalcentraal/api/brp"


@dataclass
class LocalRegistry:
    url: str  # the base URL Kluis is given (KLUIS_BRP_URL)
    fake: ContractFake
    violations: list[str] = field(default_factory=list)
    api_keys: list[str | None] = field(default_factory=list)
    client_subjects: list[str] = field(default_factory=list)


@contextlib.contextmanager
def run_registry(
    people: Mapping[str, Mapping[str, Any]],
    api_key_header: str = "X-API-KEY",
    *,
    tls: ssl.SSLContext | None = None,
) -> Iterator[LocalRegistry]:
    fake = contract_fake(people)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            content = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = httpx.Request(
                "POST",
                f"http://{self.headers.get('Host')}{self.path}",
                headers=dict(self.headers.items()),
                content=content,
            )
            registry.api_keys.append(self.headers.get(api_key_header))
            if isinstance(self.connection, ssl.SSLSocket):
                peer = self.connection.getpeercert() or {}
                subject = dict(pair[0] for pair in peer.get("subject", ()))
                registry.client_subjects.append(str(subject.get("commonName")))
            if self.path != BASE_PATH + "/personen":
                self._answer(httpx.Response(404))
                return
            try:
                self._answer(fake(request))
            except ContractViolation as exc:
                registry.violations.append(str(exc))
                self._answer(httpx.Response(400, json={"violation": "see the test"}))

        def _answer(self, response: httpx.Response) -> None:
            body = response.content
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:  # the handshake (and the client certificate check) happens on accept
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    port = server.server_address[1]
    registry = LocalRegistry(f"{scheme}://127.0.0.1:{port}{BASE_PATH}", fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
