"""How Kluis authenticates to the BRP API (`adapters.brp.Credentials`): an API key in a
header, or an OAuth 2.0 access token from the client credentials grant, cached until shortly
before it expires. Secrets never appear in a `repr`, a log record or an exception.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

import httpx

from adapters.brp import (
    RegistryAccessDenied,
    RegistryBadResponse,
    RegistryUnavailable,
    scrub,
)

log = logging.getLogger("kluis.registry")

TOKEN_MARGIN_S = 30.0  # a cached access token is renewed this long before it expires
DEFAULT_TOKEN_LIFETIME_S = 60.0  # when the token response has no `expires_in`


class ApiKey:
    """An API key sent in a header (the BRP API test environment uses `X-API-KEY`)."""

    def __init__(self, value: str, header: str = "X-API-KEY") -> None:
        self._value = value
        self.header = header

    def headers(self, client: httpx.Client) -> dict[str, str]:
        return {self.header: self._value}

    def forget(self) -> bool:
        return False  # nothing to renew: a refused key stays refused

    def __repr__(self) -> str:
        return f"ApiKey(header={self.header!r})"


class ClientCredentials:
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4, client_secret_basic as §2.3.1
    describes it); the access token is cached until `TOKEN_MARGIN_S` before it expires."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str = "",
        *,
        allow_http: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        url = httpx.URL(token_url)
        if not url.host or not (url.scheme == "https" or (url.scheme == "http" and allow_http)):
            raise ValueError("the token endpoint must be an https:// URL")
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()  # one token request at a time, the others wait for it

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def headers(self, client: httpx.Client) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, lifetime = self._request_token(client)
                self._renew_at = self._clock() + max(lifetime - TOKEN_MARGIN_S, lifetime / 2)
            return {"Authorization": f"Bearer {self._token}"}

    def forget(self) -> bool:
        """Drop the cached token (the registry refused it); whether there was one."""
        with self._lock:
            had, self._token = self._token is not None, None
            return had

    def _request_token(self, client: httpx.Client) -> tuple[str, float]:
        pair = f"{quote(self.client_id, safe='')}:{quote(self._secret, safe='')}"
        form = {"grant_type": "client_credentials"} | ({"scope": self.scope} if self.scope else {})
        try:
            response = client.post(
                self.token_url,
                data=form,
                headers={
                    "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                    "Accept": "application/json",
                },
            )
        except httpx.HTTPError as exc:
            log.warning("registry token endpoint not reached", extra={"error": type(exc).__name__})
            raise RegistryUnavailable(f"token endpoint not reached: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            error = scrub(body.get("error"), 40) if isinstance(body, dict) else None
            busy = response.status_code >= 500 or response.status_code == 429
            kind = RegistryUnavailable if busy else RegistryAccessDenied
            log.warning(
                "registry token request failed",
                extra={"status": response.status_code, "oauth_error": error},
            )
            raise kind(
                f"token endpoint refused the client credentials: HTTP {response.status_code}"
                + (f" {error}" if error else ""),
                status=response.status_code,
                code=error,
            )
        if not isinstance(body, dict):
            raise RegistryBadResponse("token endpoint answer is not a JSON object")
        token, token_type, lifetime = (
            body.get(k) for k in ("access_token", "token_type", "expires_in")
        )
        if not isinstance(token, str) or not token or str(token_type).lower() != "bearer":
            raise RegistryBadResponse("token endpoint answer has no bearer access_token")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME_S
        return token, float(lifetime)
