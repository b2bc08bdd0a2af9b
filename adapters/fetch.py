"""Fetching public documents of other parties (issuer metadata, JWKS, status lists).

Every fetch is bounded: a total timeout, a size limit read as the body streams in, at most a
few redirects, each followed by hand so that production never leaves https (a redirect to
`http://` is refused, as is an `http://` URL to begin with). Development allows `http://`
for loopback test issuers.
"""

from __future__ import annotations

import time
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

MAX_REDIRECTS = 3
DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_BYTES = 1 << 20


class FetchError(Exception):
    """The document could not be fetched within the limits; the message says why."""


class Fetcher(Protocol):
    def get(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes: ...


class HttpFetcher:
    def __init__(
        self,
        *,
        allow_http: bool,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.allow_http = allow_http
        self.timeout = timeout
        self.transport = transport

    def _check_url(self, url: str) -> None:
        scheme = urlsplit(url).scheme
        if scheme == "https" or (scheme == "http" and self.allow_http):
            return
        raise FetchError("only https URLs are fetched")

    def get(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        deadline = time.monotonic() + self.timeout
        with httpx.Client(
            timeout=self.timeout, follow_redirects=False, transport=self.transport
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                self._check_url(url)
                try:
                    with client.stream("GET", url, headers={"Accept": accept}) as response:
                        if response.is_redirect:
                            url = urljoin(url, response.headers.get("location", ""))
                            continue
                        if response.status_code != 200:
                            raise FetchError(f"HTTP {response.status_code}")
                        return _read_limited(response, max_bytes, deadline)
                except httpx.HTTPError as exc:
                    raise FetchError(f"{type(exc).__name__}") from exc
        raise FetchError("too many redirects")


def _read_limited(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    """The body, refused past `max_bytes` or past the deadline (a slow drip of bytes would
    otherwise reset the read timeout forever)."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("document too large")
    body = bytearray()
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise FetchError("document too large")
        if time.monotonic() > deadline:
            raise FetchError("timed out")
    return bytes(body)
