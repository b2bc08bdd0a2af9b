"""The benchmark's relying party: a confidential client (client_secret_basic) holding one browser
session at an OP, doing the two measured operations.

- ``sso_flow``: authorize with the existing session and remembered consent (no page may appear)
  → code → token (PKCE S256; ID token signature with the client's registered algorithm, iss,
  aud, exp and nonce checked) → userinfo.
- ``refresh``: one refresh_token grant; the OP must hand back a new refresh token (rotation).

Nothing here knows which OP it talks to; the first, interactive login is the driver's job.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from tests.support import forms

LEEWAY_S = 30
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Target:
    """What a worker process needs to act as the client of one running OP (picklable)."""

    provider: str
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    email: str
    password: str
    claims_to_allow: tuple[str, ...]
    id_token_alg: str = "RS256"
    server_pid: int | None = None  # whose CPU time (with its descendants') is measured


@dataclass
class Checks:
    state: str
    nonce: str
    verifier: str


FirstLogin = Callable[[httpx.Client, str, Target], httpx.URL]


class BenchRP:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.http = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)  # browser + backchannel
        discovery = target.issuer.rstrip("/") + "/.well-known/openid-configuration"
        self.meta: dict[str, Any] = self._json(self.http.get(discovery))
        jwks = self._json(self.http.get(self.meta["jwks_uri"]))
        self.keys = {key["kid"]: jwt.PyJWK(key) for key in jwks["keys"]}
        self.basic = httpx.BasicAuth(target.client_id, target.client_secret)
        self.refresh_token: str | None = None

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise forms.FlowError(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code}: {response.text[:200]}"
            )
        return response.json()

    def authorization_request(self) -> tuple[str, Checks]:
        checks = Checks(
            secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
        )
        challenge = base64.urlsafe_b64encode(hashlib.sha256(checks.verifier.encode()).digest())
        params = {
            "response_type": "code",
            "client_id": self.target.client_id,
            "redirect_uri": self.target.redirect_uri,
            "scope": "openid email profile",
            "state": checks.state,
            "nonce": checks.nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        url = httpx.URL(self.meta["authorization_endpoint"]).copy_merge_params(params)
        return str(url), checks

    def login(self, first_login: FirstLogin) -> None:
        """The one interactive login + consent of this session (not measured)."""
        url, checks = self.authorization_request()
        self.exchange(first_login(self.http, url, self.target), checks)

    def sso_flow(self) -> None:
        url, checks = self.authorization_request()
        back = forms.authorize(
            self.http, url, redirect_uri=self.target.redirect_uri, interactive=False
        )
        tokens = self.exchange(back.callback_url, checks)
        info = self._json(
            self.http.get(
                self.meta["userinfo_endpoint"],
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
        )
        if info.get("sub") != tokens["sub"]:
            raise forms.FlowError("userinfo sub differs from the ID token's")

    def exchange(self, callback: httpx.URL, checks: Checks) -> dict[str, Any]:
        params = callback.params
        if "error" in params or params.get("state") != checks.state:
            raise forms.FlowError(f"bad authorization response: {callback}")
        if params.get("iss") not in (None, self.target.issuer):
            raise forms.FlowError(f"authorization response from another issuer: {callback}")
        tokens = self._json(
            self.http.post(
                self.meta["token_endpoint"],
                auth=self.basic,
                data={
                    "grant_type": "authorization_code",
                    "code": params["code"],
                    "redirect_uri": self.target.redirect_uri,
                    "code_verifier": checks.verifier,
                },
            )
        )
        claims = self.verify_id_token(tokens["id_token"])
        if claims.get("nonce") != checks.nonce:
            raise forms.FlowError("ID token nonce mismatch")
        tokens["sub"] = claims["sub"]
        self.refresh_token = tokens.get("refresh_token")
        return dict(tokens)

    def verify_id_token(self, id_token: str) -> dict[str, Any]:
        kid = jwt.get_unverified_header(id_token).get("kid")
        key = self.keys.get(kid)
        if key is None:
            raise forms.FlowError(f"ID token signed with unknown kid {kid!r}")
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key.key,
            algorithms=[self.target.id_token_alg],
            audience=self.target.client_id,
            issuer=self.target.issuer,
            leeway=LEEWAY_S,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
        return claims

    def refresh(self) -> None:
        old = self.refresh_token
        if old is None:
            raise forms.FlowError("no refresh token to use")
        tokens = self._json(
            self.http.post(
                self.meta["token_endpoint"],
                auth=self.basic,
                data={"grant_type": "refresh_token", "refresh_token": old},
            )
        )
        new = tokens.get("refresh_token")
        if not tokens.get("access_token") or new in (None, old):
            raise forms.FlowError("refresh did not rotate the refresh token")
        self.refresh_token = new

    def close(self) -> None:
        self.http.close()
