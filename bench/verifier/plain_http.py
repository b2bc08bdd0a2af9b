"""A small keep-alive HTTP/1.1 client on the standard library's `http.client`, for the load
generator only: the four requests of a verification cost the bench's client about half of its
CPU through httpx (httpx, httpcore and h11 build a request, a URL and a cookie jar per call),
CPU that shares the two cores with the server it measures.

It offers the part of httpx's `Client` interface that the spec-only test wallet
(`tests/support/wallet.py`) and `run.py` call: `get`/`post` with `data` (a form), `json`,
`auth` (HTTP Basic) and `headers`, on absolute URLs of its own origin or on paths, and a
response with `status_code`, `headers`, `text`, `json()` and `raise_for_status()`. Every
request is still a real HTTP request to the real server over one persistent connection
(reopened if the server closed it).
"""

from __future__ import annotations

import base64
import http.client
import json as jsonlib
from collections.abc import Mapping
from email.message import Message
from typing import Any
from urllib.parse import urlencode, urlsplit


class HttpError(Exception):
    """A 4xx or 5xx answer to `raise_for_status`."""


class Response:
    def __init__(self, status_code: int, headers: Message, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers  # case-insensitive, as httpx's
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
        self._host, self._port, self._timeout = parts.hostname, parts.port or 80, timeout
        self.headers: dict[str, str] = {}  # sent with every request (as httpx's `headers`)
        self._connection: http.client.HTTPConnection | None = None

    def __enter__(self) -> PlainClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

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
        body: bytes | None = None
        if data is not None:
            body = urlencode(data).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        elif method == "POST":
            body = b""
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode()
            sent["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        target = self._target(url)
        for attempt in (1, 2):  # once more on a fresh connection if the kept one was closed
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self._host, self._port, timeout=self._timeout
                )
            try:
                self._connection.request(method, target, body=body, headers=sent)
                answer = self._connection.getresponse()
                content = answer.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if answer.will_close:
                self.close()
            return Response(answer.status, answer.headers, content)
        raise AssertionError("unreachable")

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)
