"""Bounded fetching of other parties' documents: https only in production (also after a
redirect), a size limit, a redirect limit and a total time limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from adapters.fetch import FetchError, HttpFetcher


def transport(routes: dict[str, httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: routes[str(request.url)])


def test_production_follows_https_redirects_but_never_to_http() -> None:
    routes = {
        "https://a.example/x": httpx.Response(302, headers={"location": "https://b.example/y"}),
        "https://b.example/y": httpx.Response(200, content=b"{}"),
        "https://a.example/down": httpx.Response(302, headers={"location": "http://c.example/"}),
        "http://c.example/": httpx.Response(200, content=b"{}"),
    }
    fetcher = HttpFetcher(allow_http=False, transport=transport(routes))

    assert fetcher.get("https://a.example/x", accept="application/json") == b"{}"
    with pytest.raises(FetchError, match="https"):
        fetcher.get("https://a.example/down", accept="application/json")
    with pytest.raises(FetchError, match="https"):
        fetcher.get("http://c.example/", accept="application/json")


def test_redirect_loops_and_large_documents_are_refused() -> None:
    routes = {
        "https://a.example/loop": httpx.Response(302, headers={"location": "/loop"}),
        "https://a.example/big": httpx.Response(200, content=b"x" * 2048),
        "https://a.example/gone": httpx.Response(404),
    }
    fetcher = HttpFetcher(allow_http=False, transport=transport(routes))

    with pytest.raises(FetchError, match="redirects"):
        fetcher.get("https://a.example/loop", accept="*/*")
    with pytest.raises(FetchError, match="too large"):
        fetcher.get("https://a.example/big", accept="*/*", max_bytes=1024)
    with pytest.raises(FetchError, match="404"):
        fetcher.get("https://a.example/gone", accept="*/*")


class Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        try:
            for _ in range(100):  # one byte every 50 ms: each read is quick, the whole is not
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def slow_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_slow_drip_is_cut_off_by_the_total_time_limit(slow_server: str) -> None:
    fetcher = HttpFetcher(allow_http=True, timeout=0.5)
    started = time.monotonic()

    with pytest.raises(FetchError, match="timed out"):
        fetcher.get(slow_server, accept="*/*")
    assert time.monotonic() - started < 3
