"""A small keep-alive HTTP/1.1 client on a plain socket, for the load generator only: the four
requests of a verification cost the bench's client about half of its CPU through httpx (httpx,
httpcore and h11 build a request, a URL and a cookie jar per call), and `http.client` still
spends a fifth of it parsing headers through the `email` package: CPU that shares the two
cores with the server it measures.

It offers the part of httpx's `Client` interface that the spec-only test wallet
(`tests/support/wallet.py`) and `run.py` call: `get`/`post` with `data` (a form), `json`,
`auth` (HTTP Basic) and `headers`, on absolute URLs of its own origin or on paths, and a
response with `status_code`, `headers` (case-insensitive), `text`, `json()` and
`raise_for_status()`. Every request is still a real HTTP request to the real server, over one
persistent connection (opened again if the server closed it); bodies are read by
`Content-Length` or chunked, as HTTP/1.1 frames them.
"""

from __future__ import annotations

import base64
import json as jsonlib
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

MAX_LINE = 65_536


class ConnectionLost(Exception):
    """The server closed the connection before answering."""


class HttpError(Exception):
    """A 4xx or 5xx answer to `raise_for_status`."""


class Headers(dict[str, str]):
    """Response headers by lower-case name; looked up in any case, as httpx's."""

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())


class Response:
    def __init__(self, status_code: int, headers: Headers, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HttpError(f"{self.status_code}: {self.text[:200]}")


class PlainClient:
    """One persistent connection to `base_url` (http only: the bench talks to loopback)."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"an http:// origin is needed, not {base_url!r}")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self._address = (parts.hostname, parts.port or 80)
        self._host_header = f"Host: {parts.netloc}\r\n"
        self._timeout = timeout
        self.headers: dict[str, str] = {}  # sent with every request (as httpx's `headers`)
        self._socket: socket.socket | None = None
        self._reader: Any = None

    def __enter__(self) -> PlainClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._socket is not None:
            self._reader.close()
            self._socket.close()
            self._socket = self._reader = None

    def _target(self, url: str) -> str:
        if url.startswith("/"):
            return url
        if not url.startswith(self.origin + "/"):
            raise ValueError(f"{url} is not on {self.origin}")
        return url[len(self.origin) :]

    def request(
        self,
        method: str,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        sent = {**self.headers, **(headers or {})}
        body = b""
        if data is not None:
            body = urlencode(data).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode()
            sent["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        if body or method == "POST":
            sent["Content-Length"] = str(len(body))
        lines = "".join(f"{name}: {value}\r\n" for name, value in sent.items())
        head = f"{method} {self._target(url)} HTTP/1.1\r\n{self._host_header}{lines}\r\n"
        message = head.encode("latin-1") + body
        reused = self._socket is not None
        try:
            return self._exchange(message)
        except (ConnectionLost, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise
        # a kept-alive connection the server had closed in the meantime: once more, fresh
        return self._exchange(message)

    def _exchange(self, message: bytes) -> Response:
        if self._socket is None:
            sock = socket.create_connection(self._address, timeout=self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket, self._reader = sock, sock.makefile("rb")
        assert self._socket is not None
        self._socket.sendall(message)
        status_line = self._reader.readline(MAX_LINE)
        if not status_line:
            raise ConnectionLost()
        status = int(status_line.split(None, 2)[1])
        headers = Headers()
        while (line := self._reader.readline(MAX_LINE)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            content = self._reader.read(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            content = self._chunked()
        else:  # no framing: the body ends with the connection
            content = self._reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, headers, content)

    def _chunked(self) -> bytes:
        chunks = []
        while size := int(self._reader.readline(MAX_LINE).split(b";", 1)[0], 16):
            chunks.append(self._reader.read(size))
            self._reader.readline(MAX_LINE)
        while self._reader.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks)

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)
