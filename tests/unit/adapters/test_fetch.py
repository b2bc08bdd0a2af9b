"""Bounded fetching of other parties' documents: https only in production (also after a
redirect), a size limit, a redirect limit and a total time limit; only public addresses in
production (loopback too in development), checked at every hop and pinned for the connection.
No test touches the network: names resolve through a fake `socket.getaddrinfo`."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from adapters.fetch import FetchError, HttpFetcher

PUBLIC = "93.184.215.14"
# name -> the addresses the fake DNS answers (a name not listed does not resolve)
DNS: dict[str, list[str]] = {
    "a.example": [PUBLIC],
    "b.example": [PUBLIC],
    "c.example": [PUBLIC],
    "internal.example": ["10.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": [PUBLIC, "192.168.1.10"],
    "mapped.example": ["::ffff:10.0.0.1"],
    "local.example": ["127.0.0.1"],
}
REAL_GETADDRINFO = socket.getaddrinfo


def fake_getaddrinfo(host: Any, port: Any, *args: Any, **kw: Any) -> list[Any]:
    try:
        ipaddress.ip_address(host)  # a literal resolves to itself without the network
    except ValueError:
        if host not in DNS:
            raise socket.gaierror(socket.EAI_NONAME, "not known") from None
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in DNS[host]
        ]
    return REAL_GETADDRINFO(host, port, *args, **kw)


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)


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


def answer_all(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"internal")


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://[fe80::1]/",
        "https://224.0.0.1/",
        "https://0.0.0.0/",
        "https://100.64.0.1/",
        "https://internal.example/status",
        "https://metadata.example/",
        "https://mixed.example/",
        "https://mapped.example/",
        "https://local.example/",
    ],
)
def test_production_refuses_non_public_addresses_before_any_request(url: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answer_all(request)

    fetcher = HttpFetcher(allow_http=False, transport=httpx.MockTransport(record))
    with pytest.raises(FetchError, match="not allowed"):
        fetcher.get(url, accept="*/*")
    assert sent == []


def test_a_redirect_to_a_private_address_is_refused_before_it_is_followed() -> None:
    sent: list[str] = []
    routes = {
        "https://a.example/list": httpx.Response(
            302, headers={"location": "https://internal.example/admin"}
        ),
        "https://b.example/list": httpx.Response(
            302, headers={"location": "https://169.254.169.254/latest/"}
        ),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return routes.get(str(request.url)) or answer_all(request)

    fetcher = HttpFetcher(allow_http=False, transport=httpx.MockTransport(handler))
    for url in routes:
        with pytest.raises(FetchError, match="not allowed"):
            fetcher.get(url, accept="*/*")
    assert sent == list(routes)


def test_development_reaches_loopback_but_not_private_addresses_and_http_only_on_loopback() -> None:
    fetcher = HttpFetcher(allow_http=True, transport=httpx.MockTransport(answer_all))
    assert fetcher.get("http://127.0.0.1:8000/", accept="*/*") == b"internal"
    assert fetcher.get("https://[::1]/", accept="*/*") == b"internal"
    assert fetcher.get("http://local.example/", accept="*/*") == b"internal"
    for url in ("https://10.0.0.1/", "https://metadata.example/", "http://192.168.0.1/"):
        with pytest.raises(FetchError, match="not allowed"):
            fetcher.get(url, accept="*/*")
    with pytest.raises(FetchError, match="only https"):
        fetcher.get("http://a.example/", accept="*/*")  # public, but not over http


def test_an_unresolvable_host_is_refused() -> None:
    fetcher = HttpFetcher(allow_http=False, transport=httpx.MockTransport(answer_all))
    with pytest.raises(FetchError, match="not resolved"):
        fetcher.get("https://nowhere.example/", accept="*/*")


class Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (self.headers.get("Host") or "").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the name first answers a loopback address where the server listens,
    then another (unused) loopback address. The fetch connects to the first, checked one and
    sends the original host name."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)

    def rebinding(host: Any, port: Any, *args: Any, **kw: Any) -> list[Any]:
        if host == "rebind.example":
            ip = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return fake_getaddrinfo(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = server.server_address[1]
    try:
        body = HttpFetcher(allow_http=True).get(f"http://rebind.example:{port}/", accept="*/*")
    finally:
        server.shutdown()
        server.server_close()
    assert body == f"rebind.example:{port}".encode()
