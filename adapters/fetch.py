"""Fetching public documents of other parties (issuer metadata, JWKS, status lists).

The URLs come from other parties (a status list URI inside a credential, a `jwks_uri` in
issuer metadata), so every fetch is checked against server-side request forgery (OWASP SSRF
Prevention Cheat Sheet): the host is resolved and every address it resolves to must be public
(not loopback, private, link-local, shared, multicast, reserved or unspecified; an
IPv4-mapped IPv6 address counts as its IPv4 address), checked again at each redirect, which is
followed by hand; the connection then goes to the checked address (no second resolution that
could answer differently), with the original host for TLS (SNI, certificate check) and `Host`.

Every fetch is bounded: a total timeout, a size limit read as the body streams in, at most a
few redirects. Production fetches only `https://` URLs of public addresses. Development and
tests (`allow_http`) also reach loopback addresses, and `http://` only on loopback: other
non-public addresses stay refused. `FetchError` messages are for the log and the operator,
not for the party that supplied the URL.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from typing import Protocol
from urllib.parse import urljoin

import httpx

MAX_REDIRECTS = 3
DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_MAX_BYTES = 1 << 20

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The document could not be fetched within the limits; the message says why."""


class Fetcher(Protocol):
    def get(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes: ...


def _unmapped(ip: IpAddress) -> IpAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_public(ip: IpAddress) -> bool:
    """An address on the public internet (IANA special-purpose registries excluded)."""
    ip = _unmapped(ip)
    special = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not special


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address `host` resolves to (an IP literal: itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError("host not resolved") from exc
    found: list[IpAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise FetchError("host not resolved")
    return found


class HttpFetcher:
    def __init__(
        self,
        *,
        allow_http: bool,
        allow_loopback: bool | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`allow_http`: development — `http://` to loopback addresses. `allow_loopback`
        (default: as `allow_http`): loopback addresses are reached at all. `transport` (tests)
        replaces the network; the addresses are still resolved and checked, but not pinned."""
        self.allow_http = allow_http
        self.allow_loopback = allow_http if allow_loopback is None else allow_loopback
        self.timeout = timeout
        self.transport = transport

    def _allowed(self, ip: IpAddress) -> bool:
        return is_public(ip) or (self.allow_loopback and _unmapped(ip).is_loopback)

    def _checked(self, url: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """The URL to request (on the checked address), its extra headers and extensions."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise FetchError("invalid URL") from exc
        scheme, host = parsed.scheme, parsed.host
        if not (scheme == "https" or (scheme == "http" and self.allow_http)) or not host:
            raise FetchError("only https URLs are fetched")
        addresses = resolve(host, parsed.port or (443 if scheme == "https" else 80))
        if not all(self._allowed(ip) for ip in addresses):
            raise FetchError("address not allowed")
        if scheme == "http" and not all(_unmapped(ip).is_loopback for ip in addresses):
            raise FetchError("only https URLs are fetched (http only on loopback)")
        if self.transport is not None:
            return parsed, {}, {}
        pinned = parsed.copy_with(host=str(addresses[0]))
        return pinned, {"Host": parsed.netloc.decode("ascii")}, {"sni_hostname": host}

    def get(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        deadline = time.monotonic() + self.timeout
        with httpx.Client(
            timeout=self.timeout, follow_redirects=False, transport=self.transport
        ) as client:
            for _ in range(MAX_REDIRECTS + 1):
                target, headers, extensions = self._checked(url)
                try:
                    with client.stream(
                        "GET",
                        target,
                        headers={"Accept": accept, **headers},
                        extensions=extensions,
                    ) as response:
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
