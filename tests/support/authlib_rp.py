"""An independent relying party in Python: the session tests/e2e/node/rp.mjs drives, with
Authlib's OAuth2Client (httpx integration) for the OAuth side and the browser steps walked by
tests/support/forms.py over a separate httpx client with its own cookie jar.

ID tokens are verified with joserfc (Authlib's JOSE library; ``authlib.jose`` is deprecated in
favour of it) against the OP's JWKS with an algorithm allow-list, then checked as OpenID Connect
Core §3.1.3.7 asks by ``authlib.oidc.core.CodeIDToken`` (iss, aud, azp, exp, iat, nonce, at_hash).

``run_authlib_flow(config)`` takes the config of rp.mjs (issuer, client_id, client_secret,
redirect_uri, post_logout_redirect_uri, email, password, claims_to_allow; optional
token_endpoint_auth_method, private_jwk, id_token_signed_response_alg, scope, decision,
check_sso) and returns the same shape of report: ``ok``, ``steps``, ``id_token``, ``userinfo``,
``sso``, ``refresh``, ``logout`` and, on failure, ``error`` with the step it happened in.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import JWKRegistry, KeySet

from tests.support import forms

LEEWAY_S = 30  # clock skew tolerated on exp/iat between the OP and this client
ID_TOKEN_ALGORITHMS = ("RS256", "ES256")  # what Kluis signs with; others are refused
SESSION_GONE_ERRORS = {"login_required", "interaction_required", "consent_required"}
TIMEOUT_S = 15.0


class AuthorizationError(Exception):
    """The OP answered the authorization request with an error at the redirect_uri."""

    def __init__(self, error: str, description: str | None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class AuthlibSession:
    def __init__(self, config: Mapping[str, Any], result: dict[str, Any]) -> None:
        self.cfg = config
        self.result = result
        self.step = "start"
        self.meta: dict[str, Any] = {}
        self.keys: KeySet | None = None
        self.browser = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)
        self.oauth: OAuth2Client | None = None

    def enter(self, step: str) -> None:
        self.step = step
        self.result["steps"].append(step)

    # --- discovery and client ----------------------------------------------------------------

    def discover(self) -> None:
        issuer = self.cfg["issuer"]
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = httpx.get(url, timeout=TIMEOUT_S)
        response.raise_for_status()
        self.meta = response.json()
        if self.meta.get("issuer") != issuer:  # OpenID Connect Discovery §4.3
            raise forms.FlowError(f"discovery issuer {self.meta.get('issuer')!r} != {issuer!r}")
        if "S256" not in self.meta.get("code_challenge_methods_supported", []):
            raise forms.FlowError("discovery does not advertise PKCE S256")
        self.oauth = self._client()
        self.result["token_endpoint_auth_method"] = self.oauth.token_endpoint_auth_method

    def _client(self) -> OAuth2Client:
        cfg = self.cfg
        method = cfg.get("token_endpoint_auth_method") or (
            "private_key_jwt"
            if cfg.get("private_jwk")
            else "client_secret_basic"
            if cfg.get("client_secret")
            else "none"
        )
        secret: Any = cfg.get("client_secret")
        if method == "private_key_jwt":
            secret = JWKRegistry.import_key(dict(cfg["private_jwk"]))
        client = OAuth2Client(
            client_id=cfg["client_id"],
            client_secret=secret,
            token_endpoint_auth_method=method,
            redirect_uri=cfg["redirect_uri"],
            code_challenge_method="S256",
            timeout=TIMEOUT_S,
        )
        if method == "private_key_jwt":
            alg = cfg["private_jwk"].get("alg", "RS256")
            client.register_client_auth_method(PrivateKeyJWT(self.meta["token_endpoint"], alg=alg))
        return client

    def keyset(self, kid: str | None) -> KeySet:
        # Fetched once, and again when an unknown kid shows up (the OP rotated its keys).
        if self.keys is None or (kid and all(k.kid != kid for k in self.keys.keys)):
            jwks = httpx.get(self.meta["jwks_uri"], timeout=TIMEOUT_S)
            jwks.raise_for_status()
            self.keys = KeySet.import_key_set(jwks.json())
        return self.keys

    # --- the protocol steps ------------------------------------------------------------------

    def authorization_request(self, **extra: str) -> tuple[str, dict[str, str]]:
        assert self.oauth is not None
        checks = {
            "state": generate_token(32),
            "nonce": generate_token(32),
            "code_verifier": generate_token(64),
        }
        url, _ = self.oauth.create_authorization_url(
            self.meta["authorization_endpoint"],
            state=checks["state"],
            code_verifier=checks["code_verifier"],
            nonce=checks["nonce"],
            scope=self.cfg.get("scope", "openid email profile"),
            **extra,
        )
        return url, checks

    def walk(self, url: str, *, interactive: bool = True) -> forms.Authorized:
        return forms.authorize(
            self.browser,
            url,
            redirect_uri=self.cfg["redirect_uri"],
            email=self.cfg.get("email", ""),
            password=self.cfg.get("password", ""),
            claims_to_allow=self.cfg.get("claims_to_allow"),
            decision=self.cfg.get("decision", "allow"),
            interactive=interactive,
        )

    def check_callback(self, callback: httpx.URL) -> None:
        params = callback.params
        if "error" in params:
            raise AuthorizationError(params["error"], params.get("error_description"))
        # RFC 9207: the iss parameter, when sent or promised, must name this issuer.
        if params.get("iss") is None and self.meta.get(
            "authorization_response_iss_parameter_supported"
        ):
            raise forms.FlowError("authorization response lacks iss (RFC 9207)")
        if params.get("iss") not in (None, self.cfg["issuer"]):
            raise forms.FlowError(f"authorization response iss {params.get('iss')!r} is wrong")

    def exchange(self, callback: httpx.URL, checks: Mapping[str, str]) -> dict[str, Any]:
        assert self.oauth is not None
        self.check_callback(callback)
        token = self.oauth.fetch_token(
            self.meta["token_endpoint"],
            authorization_response=str(callback),
            state=checks["state"],
            code_verifier=checks["code_verifier"],
        )
        if "id_token" not in token:
            raise forms.FlowError("the token response carried no id_token")
        token = dict(token)
        token["id_token_claims"], token["id_token_header"] = self.verify_id_token(
            token["id_token"], token["access_token"], checks["nonce"]
        )
        return token

    def verify_id_token(
        self, id_token: str, access_token: str, nonce: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        expected_alg = self.cfg.get("id_token_signed_response_alg", "RS256")
        if expected_alg not in ID_TOKEN_ALGORITHMS:
            raise forms.FlowError(f"unsupported id_token_signed_response_alg {expected_alg}")
        decoded = jwt.decode(
            id_token,
            lambda guest: self.keyset(guest.headers().get("kid")),
            algorithms=[expected_alg],
        )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": self.cfg["issuer"]},
                "aud": {"essential": True, "value": self.cfg["client_id"]},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
            },
            params={
                "nonce": nonce,
                "client_id": self.cfg["client_id"],
                "access_token": access_token,
            },
        )
        claims.validate(leeway=LEEWAY_S)
        return dict(claims), dict(decoded.header)

    def userinfo(self, access_token: str, expected_sub: str) -> dict[str, Any]:
        response = httpx.get(
            self.meta["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT_S,
        )
        response.raise_for_status()
        info: dict[str, Any] = response.json()
        if info.get("sub") != expected_sub:  # OpenID Connect Core §5.3.2
            raise forms.FlowError("userinfo sub differs from the ID token's")
        return info

    # --- the whole session -------------------------------------------------------------------

    def run(self) -> None:
        cfg, result = self.cfg, self.result
        self.enter("discovery")
        self.discover()
        assert self.oauth is not None

        self.enter("authorize")
        url, checks = self.authorization_request()
        walked = self.walk(url)
        result["pages"], result["consent"] = walked.pages, walked.consent
        result["callback_iss"] = walked.callback_url.params.get("iss")

        self.enter("token")
        first = self.exchange(walked.callback_url, checks)
        sub = first["id_token_claims"]["sub"]
        result["id_token"] = {
            "header": first["id_token_header"],
            "claims": first["id_token_claims"],
        }
        result["token"] = {
            "token_type": first.get("token_type"),
            "expires_in": first.get("expires_in"),
            "scope": first.get("scope"),
            "has_refresh_token": "refresh_token" in first,
        }

        self.enter("userinfo")
        result["userinfo"] = self.userinfo(first["access_token"], sub)

        latest_id_token = first["id_token"]
        if cfg.get("check_sso", True):
            self.enter("sso")
            url, checks = self.authorization_request()
            back = self.walk(url, interactive=False)
            again = self.exchange(back.callback_url, checks)
            if again["id_token_claims"]["sub"] != sub:
                raise forms.FlowError("single sign-on returned another subject")
            result["sso"] = {"straight_back": True, "same_sub": True}
            latest_id_token = again["id_token"]

        self.enter("refresh")
        self.refresh(first, sub)

        self.enter("logout")
        self.logout(latest_id_token)

        self.enter("session_ended")
        url, _ = self.authorization_request(prompt="none")
        try:
            back = self.walk(url, interactive=False)
        except forms.FlowError as error:
            if error.page_kind != "login":
                raise
            result["logout"].update(session_ended=True, prompt_none_error=None)
        else:
            error_code = back.callback_url.params.get("error")
            if error_code not in SESSION_GONE_ERRORS:
                raise forms.FlowError(f"prompt=none after logout answered {error_code or 'a code'}")
            result["logout"].update(session_ended=True, prompt_none_error=error_code)
        result["ok"] = True

    def refresh(self, first: Mapping[str, Any], sub: str) -> None:
        assert self.oauth is not None
        if "refresh_token" not in first:
            raise forms.FlowError("the token response carried no refresh_token")
        old = first["refresh_token"]
        refreshed = self.oauth.refresh_token(self.meta["token_endpoint"], refresh_token=old)
        rotated = refreshed.get("refresh_token") not in (None, old)
        report: dict[str, Any] = {"ok": False, "rotated": rotated}
        report["new_id_token"] = "id_token" in refreshed
        self.result["refresh"] = report
        if not rotated:
            raise forms.FlowError("the refresh token was not rotated")
        if "id_token" in refreshed:  # OpenID Connect Core §12.2: same iss, aud and sub
            claims, _ = self.verify_id_token(
                refreshed["id_token"], refreshed["access_token"], nonce=None
            )
            if claims["sub"] != sub:
                raise forms.FlowError("the refreshed ID token has another subject")
        after = self.userinfo(refreshed["access_token"], sub)
        report["userinfo_sub_matches"] = after["sub"] == sub
        try:
            self.oauth.refresh_token(self.meta["token_endpoint"], refresh_token=old)
            report["old_token_rejected"] = False
        except Exception as error:  # authlib's OAuthError, carrying the OAuth error code
            code = getattr(error, "error", None)
            if code is None:
                raise
            report.update(old_token_rejected=True, old_token_error=code)
        report["ok"] = True

    def logout(self, id_token: str) -> None:
        cfg = self.cfg
        state = generate_token(32)
        url = httpx.URL(self.meta["end_session_endpoint"]).copy_merge_params(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": cfg["post_logout_redirect_uri"],
                "client_id": cfg["client_id"],
                "state": state,
            }
        )
        final, confirmed = forms.logout(
            self.browser, str(url), post_logout_redirect_uri=cfg["post_logout_redirect_uri"]
        )
        returned = final.params.get("state")
        if returned is not None and returned != state:
            raise forms.FlowError("logout returned another state")
        self.result["logout"] = {
            "final_url": str(final),
            "confirmed": confirmed,
            "state_returned": returned == state,
        }

    def close(self) -> None:
        self.browser.close()
        if self.oauth is not None:
            self.oauth.close()


def _describe(error: BaseException, step: str) -> dict[str, Any]:
    out: dict[str, Any] = {"step": step, "name": type(error).__name__, "message": str(error)}
    for attribute in ("error", "description"):
        value = getattr(error, attribute, None)
        if isinstance(value, str):
            out["error_description" if attribute == "description" else "error"] = value
    if isinstance(error, forms.FlowError):
        out.update(error.details())
    if isinstance(error, httpx.HTTPStatusError):
        out["status"] = error.response.status_code
        out["page"] = forms.page_text(error.response.text)
    if not isinstance(error, forms.FlowError | AuthorizationError):
        out["traceback"] = traceback.format_exception(error)[-3:]
    return out


def run_authlib_flow(config: Mapping[str, Any]) -> dict[str, Any]:
    """Run the whole relying-party session; never raises for a flow failure (see ``error``)."""
    result: dict[str, Any] = {
        "ok": False,
        "issuer": config["issuer"],
        "client_id": config["client_id"],
        "steps": [],
    }
    session = AuthlibSession(config, result)
    try:
        session.run()
    except Exception as error:
        result["error"] = _describe(error, session.step)
    finally:
        result["cookies"] = [cookie.name for cookie in session.browser.cookies.jar]
        session.close()
    return result
