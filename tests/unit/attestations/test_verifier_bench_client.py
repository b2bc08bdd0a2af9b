"""`bench/verifier/plain_http.py`, the verifier benchmark's HTTP client: real HTTP/1.1 over one
kept-alive loopback connection, with the parts of httpx's interface the spec-only wallet uses."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from bench.verifier.plain_http import HttpError, PlainClient


class Echo(BaseHTTPRequestHandler):
    """Answers with what it received, and the port of the client's connection."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        received = {
            "method": self.command,
            "path": self.path,
            "peer": self.client_address[1],
            "content_type": self.headers.get("Content-Type"),
            "authorization": self.headers.get("Authorization"),
            "x_request_id": self.headers.get("X-Request-Id"),
            "body": body,
        }
        status = 404 if self.path == "/missing" else 200
        payload = json.dumps(received).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(payload) // 2
            for chunk in (payload[:half], payload[half:], b""):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            return
        self.send_header("Content-Length", str(len(payload)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_requests_share_one_kept_alive_connection(origin: str) -> None:
    with PlainClient(origin) as client:
        client.headers["X-Request-Id"] = "r1"
        first = client.get("/a?x=1")
        second = client.post(f"{origin}/b", data={"state": "s t", "vp_token": '{"q": ["a~b"]}'})
        third = client.post("/c", json={"k": [1]}, auth=("id", "sec:ret"))

    got = [r.json() for r in (first, second, third)]
    assert [g["path"] for g in got] == ["/a?x=1", "/b", "/c"]
    assert len({g["peer"] for g in got}) == 1  # the same connection
    assert all(g["x_request_id"] == "r1" for g in got)
    assert got[1]["content_type"] == "application/x-www-form-urlencoded"
    assert parse_qs(got[1]["body"]) == {"state": ["s t"], "vp_token": ['{"q": ["a~b"]}']}
    assert got[2]["content_type"] == "application/json"
    assert json.loads(got[2]["body"]) == {"k": [1]}
    assert got[2]["authorization"] == "Basic " + base64.b64encode(b"id:sec:ret").decode()
    assert first.headers["content-type"] == "application/json"  # case-insensitive
    assert first.status_code == 200 and first.text == first.content.decode()


def test_a_connection_the_server_closed_is_opened_again(origin: str) -> None:
    with PlainClient(origin) as client:
        closing = client.get("/close")
        after = client.get("/after")
        again = client.get("/again")

    assert closing.status_code == after.status_code == again.status_code == 200
    assert closing.json()["peer"] != after.json()["peer"] == again.json()["peer"]


def test_a_chunked_body_is_read_whole_and_the_connection_kept(origin: str) -> None:
    with PlainClient(origin) as client:
        chunked = client.post("/chunked", data={"a": "b"})
        after = client.get("/after")

    assert chunked.json()["path"] == "/chunked" and chunked.json()["body"] == "a=b"
    assert chunked.json()["peer"] == after.json()["peer"]


def test_other_origins_are_refused_and_errors_raise(origin: str) -> None:
    with PlainClient(origin) as client:
        with pytest.raises(ValueError):
            client.get("http://127.0.0.1:1/elsewhere")
        with pytest.raises(ValueError):
            client.get(origin + "evil.example/")  # not a path of this origin
        missing = client.get("/missing")
        with pytest.raises(HttpError):
            missing.raise_for_status()
    with pytest.raises(ValueError):
        PlainClient("https://127.0.0.1")
