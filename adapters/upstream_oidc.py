"""Log in with DigiD through a municipality's OpenID Connect broker: Kluis as relying party.

Kluis learns the resident's BSN (from an ID token or UserInfo claim), uses it once for a
registry look-up and forgets it. The flow (OpenID Connect Core 1.0 §3.1, code flow):
- `start_login` builds the authorization request with a fresh state, nonce and PKCE S256
  verifier (RFC 7636 §4) and returns them as a `PendingLogin`, which the caller keeps
  server-side (in the database, consumed atomically: single use is the caller's delete);
- `finish_login` checks the callback (pending age, `state`, RFC 9207 `iss`, broker errors),
  exchanges the code (client_secret_basic, private_key_jwt or tls_client_auth:
  `adapters.upstream_oidc_client_auth`), validates the ID token
  (`adapters.upstream_oidc_tokens`) and reads the BSN.
Broker metadata comes from OpenID Connect Discovery 1.0 §4 and is cached with its JWKS.

`UpstreamLogin` is the protocol the caller depends on; `OidcUpstream` speaks to a real broker
(httpx, synchronous: the caller runs in the thread pool) and `DevelopmentUpstream`
(`adapters.upstream_oidc_development`) "logs in" a configured test BSN without any broker.
Nothing here logs the BSN, the code or a token.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from adapters.upstream_oidc_client_auth import (
    AssertionAudience,
    AssertionKey,
    ClientAuth,
    ClientAuthMethod,
)
from adapters.upstream_oidc_tokens import (
    Expected,
    InvalidCallback,
    InvalidIdToken,
    LoginCancelled,
    LoginExpired,
    UpstreamLoginError,
    UpstreamMisconfigured,
    UpstreamUnavailable,
    check_callback_error,
    check_callback_issuer,
    check_pending,
    decode_id_token,
    printable,
    read_bsn,
)
from core import b64url

log = logging.getLogger("kluis.upstream_oidc")

DEFAULT_PENDING_MAX_AGE_S = 600
DEFAULT_METADATA_MAX_AGE_S = 3600
DEFAULT_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 256 * 1024


@dataclass(frozen=True)
class UpstreamConfig:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    scopes: tuple[str, ...] = ("openid",)
    bsn_claim: str = "bsn"
    bsn_source: Literal["id_token", "userinfo"] = "id_token"
    bsn_sector_code: str | None = None  # e.g. "s00000000" when the broker sends that prefix
    acr_values: tuple[str, ...] = ()  # sent as acr_values (some brokers pick the eID by it)
    accepted_acr: tuple[str, ...] = ()  # the levels the ID token's acr must be one of
    pending_max_age_s: float = DEFAULT_PENDING_MAX_AGE_S
    metadata_max_age_s: float = DEFAULT_METADATA_MAX_AGE_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    allow_http: bool = False  # development and tests only: a broker without TLS
    client_auth: ClientAuthMethod = "client_secret_basic"
    assertion_key: AssertionKey | None = None  # private_key_jwt
    assertion_audience: AssertionAudience = "issuer"
    tls: ssl.SSLContext | None = field(default=None, repr=False, compare=False)  # client cert

    def __post_init__(self) -> None:
        if "openid" not in self.scopes:
            raise ValueError("scopes must include openid")
        if self.client_auth == "tls_client_auth" and self.tls is None:
            raise ValueError("tls_client_auth needs a TLS client certificate")
        if not _secure(self.issuer, self.allow_http):
            raise ValueError("the issuer must be an https URL")


@dataclass(frozen=True)
class PendingLogin:
    """What the caller keeps server-side between `start_login` and `finish_login` (all plain
    values: serialize with `dataclasses.asdict`, restore with `PendingLogin(**values)`)."""

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    created_at: float  # POSIX seconds


@dataclass(frozen=True)
class UpstreamIdentity:
    bsn: str = field(repr=False)  # use once, never store or log
    subject: str = field(repr=False)  # the broker's identifier of the resident
    acr: str | None = None


class UpstreamLogin(Protocol):
    def start_login(self, *, ui_locales: str | None = None) -> tuple[str, PendingLogin]:
        """The URL to send the resident's browser to, and what to keep until the callback."""
        ...

    def finish_login(
        self, pending: PendingLogin, callback_query: Mapping[str, str]
    ) -> UpstreamIdentity:
        """The identity from the callback's query parameters, or an `UpstreamLoginError`."""
        ...


def _secure(url: str, allow_http: bool) -> bool:
    scheme = httpx.URL(url).scheme
    return scheme == "https" or (allow_http and scheme == "http")


def new_pending(now: float) -> PendingLogin:
    # 256 bits each; the verifier is 43 characters, the RFC 7636 §4.1 minimum length
    return PendingLogin(
        secrets.token_urlsafe(32), secrets.token_urlsafe(32), b64url(secrets.token_bytes(32)), now
    )


class OidcUpstream:
    def __init__(
        self,
        config: UpstreamConfig,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.auth = ClientAuth(
            config.client_auth,
            config.client_id,
            config.client_secret,
            config.assertion_key,
            config.assertion_audience,
        )
        self._owns_http = http is None
        self._http = http or httpx.Client(
            timeout=config.timeout_s, follow_redirects=False, verify=config.tls or True
        )
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._jwks: tuple[float, list[dict[str, Any]]] | None = None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # -- discovery (OpenID Connect Discovery 1.0 §4) --------------------------------------

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata and self.clock() - self._metadata[0] < self._max_age():
                return self._metadata[1]
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            document = self._checked_metadata(self._get_json(url, "discovery"))
            self._metadata = (self.clock(), document)
            self._jwks = None  # a new document may name a new jwks_uri
            log.info("upstream broker metadata fetched", extra={"issuer": self.config.issuer})
            return document

    def _max_age(self) -> float:
        return self.config.metadata_max_age_s

    def _checked_metadata(self, document: dict[str, Any]) -> dict[str, Any]:
        config = self.config
        if document.get("issuer") != config.issuer:  # §4.3: exactly, no normalising
            raise UpstreamMisconfigured("discovery issuer differs from the configured issuer")
        needed = ["authorization_endpoint", "token_endpoint", "jwks_uri"]
        if config.bsn_source == "userinfo":
            needed.append("userinfo_endpoint")
        for name in needed:
            url = document.get(name)
            if not isinstance(url, str) or not _secure(url, config.allow_http):
                raise UpstreamMisconfigured(f"discovery {name} missing or not https")
        for name, ours in (
            ("code_challenge_methods_supported", "S256"),
            ("response_types_supported", "code"),
        ):
            offered = document.get(name)
            if offered is not None and (not isinstance(offered, list) or ours not in offered):
                raise UpstreamMisconfigured(f"discovery {name} lacks {ours}")
        if (problem := self.auth.metadata_problem(document)) is not None:
            raise UpstreamMisconfigured(f"discovery {problem}")
        url = self.auth.token_endpoint(document)  # an mTLS alias is checked like the rest
        if not _secure(url, config.allow_http):
            raise UpstreamMisconfigured("discovery mtls_endpoint_aliases token_endpoint not https")
        return document

    def _keys(self, refresh: bool) -> list[dict[str, Any]]:
        jwks_uri = self.metadata()["jwks_uri"]
        with self._lock:
            if not refresh and self._jwks and self.clock() - self._jwks[0] < self._max_age():
                return self._jwks[1]
            keys = self._get_json(jwks_uri, "jwks").get("keys")
            if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
                raise UpstreamMisconfigured("jwks: no list of keys")
            self._jwks = (self.clock(), keys)
            if refresh:
                log.info("upstream broker JWKS fetched again for an unknown kid")
            return keys

    # -- the login -------------------------------------------------------------------------

    def start_login(self, *, ui_locales: str | None = None) -> tuple[str, PendingLogin]:
        config = self.config
        pending = new_pending(self.clock())
        challenge = b64url(hashlib.sha256(pending.code_verifier.encode("ascii")).digest())
        params = {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "scope": " ".join(config.scopes),
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if config.acr_values:
            params["acr_values"] = " ".join(config.acr_values)
        if ui_locales:
            params["ui_locales"] = ui_locales
        metadata = self.metadata()
        if metadata.get("claims_parameter_supported") is True:
            # OIDC Core §5.5: ask for exactly the BSN, where it is read (data minimisation)
            wanted = {config.bsn_source: {config.bsn_claim: {"essential": True}}}
            params["claims"] = json.dumps(wanted, separators=(",", ":"))
        endpoint = httpx.URL(metadata["authorization_endpoint"])
        return str(endpoint.copy_merge_params(params)), pending

    def finish_login(
        self, pending: PendingLogin, callback_query: Mapping[str, str]
    ) -> UpstreamIdentity:
        try:
            return self._finish(pending, callback_query)
        except UpstreamLoginError as error:
            # the resident's own doing is routine; the rest may need the operator
            routine = isinstance(error, LoginCancelled | LoginExpired)
            log.log(
                logging.INFO if routine else logging.WARNING,
                "upstream login failed",
                extra={"error_type": type(error).__name__, "reason": str(error)},
            )
            raise

    def _finish(self, pending: PendingLogin, callback: Mapping[str, str]) -> UpstreamIdentity:
        config = self.config
        check_pending(
            pending.state, pending.created_at, callback, self.clock(), config.pending_max_age_s
        )
        metadata = self.metadata()
        iss_always_sent = metadata.get("authorization_response_iss_parameter_supported") is True
        check_callback_issuer(callback, config.issuer, iss_always_sent)
        check_callback_error(callback)
        code = callback.get("code")
        if not isinstance(code, str) or not code:
            raise InvalidCallback("callback has neither code nor error")
        tokens = self._exchange(self.auth.token_endpoint(metadata), code, pending)
        access_token = tokens["access_token"]
        expected = Expected(
            issuer=config.issuer,
            client_id=config.client_id,
            nonce=pending.nonce,
            now=self.clock(),
            access_token=access_token,
            accepted_acr=config.accepted_acr,
        )
        claims = decode_id_token(tokens["id_token"], self._keys, expected)
        if config.bsn_source == "userinfo":
            source = self._userinfo(metadata["userinfo_endpoint"], access_token, claims["sub"])
        else:
            source = claims
        bsn = read_bsn(source, config.bsn_claim, config.bsn_sector_code)
        log.info("upstream login finished", extra={"acr": claims.get("acr")})
        return UpstreamIdentity(bsn=bsn, subject=claims["sub"], acr=claims.get("acr"))

    def _exchange(self, token_endpoint: str, code: str, pending: PendingLogin) -> dict[str, Any]:
        """RFC 6749 §4.1.3 with PKCE; the client authenticates as configured (`self.auth`)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        extra, basic = self.auth.token_request(self.config.issuer, token_endpoint, self.clock())
        auth = {"auth": basic} if basic is not None else {}
        response = self._send("POST", token_endpoint, "token", data=form | extra, **auth)
        if response.status_code != 200:
            try:  # RFC 6749 §5.2; a proxy's error page has no `error`
                error = printable(_json_object(response.content, "token").get("error"), 40)
            except UpstreamUnavailable:
                error = ""
            detail = f"token endpoint answered HTTP {response.status_code} error={error!r}"
            if error == "invalid_grant":  # expired, already used, or another verifier
                raise LoginExpired(detail)
            if error in {"invalid_client", "unauthorized_client", "unsupported_grant_type"}:
                raise UpstreamMisconfigured(detail)
            raise UpstreamUnavailable(detail)
        body = _json_object(response.content, "token response")
        for name in ("access_token", "id_token"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise UpstreamUnavailable(f"token response lacks {name}")
        if str(body.get("token_type", "")).lower() != "bearer":
            raise UpstreamUnavailable("token response token_type is not Bearer")
        return body

    def _userinfo(self, endpoint: str, access_token: str, sub: str) -> dict[str, Any]:
        """OIDC Core §5.3: plain JSON only (no signed or encrypted UserInfo); its `sub` must
        be the ID token's (§5.3.2), or the answer is about someone else."""
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        response = self._send("GET", endpoint, "userinfo", headers=headers)
        if response.status_code != 200:
            raise UpstreamUnavailable(f"userinfo answered HTTP {response.status_code}")
        if not response.headers.get("content-type", "").lower().startswith("application/json"):
            raise UpstreamMisconfigured("userinfo is not plain JSON (signed or encrypted?)")
        claims = _json_object(response.content, "userinfo")
        if claims.get("sub") != sub:
            raise InvalidIdToken("userinfo sub differs from the ID token's")
        return claims

    # -- HTTP --------------------------------------------------------------------------------

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        response = self._send("GET", url, what, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise UpstreamUnavailable(f"{what} answered HTTP {response.status_code}")
        return _json_object(response.content, what)

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """One request, no redirects, the body read up to MAX_RESPONSE_BYTES."""
        try:
            timeout, redirects = self.config.timeout_s, False  # whatever client was passed in
            with self._http.stream(
                method, url, timeout=timeout, follow_redirects=redirects, **kwargs
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise UpstreamUnavailable(f"{what}: response too large")
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{what}: {type(exc).__name__}") from None
        return httpx.Response(response.status_code, headers=response.headers, content=bytes(body))


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    """A JSON object from the broker, or `UpstreamUnavailable` naming `what` (never the body,
    which may hold tokens)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise UpstreamUnavailable(f"{what}: not JSON") from None
    if not isinstance(value, dict):
        raise UpstreamUnavailable(f"{what}: not a JSON object")
    return value
