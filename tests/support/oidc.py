"""Helpers for driving the OpenID provider in-process: residents, clients, PKCE, forms."""

from __future__ import annotations

import dataclasses
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from identity.accounts.models import AccountStatus
from identity.accounts.service import Accounts, create_account
from identity.accounts.sessions import SESSION_COOKIE, start_browser_session
from identity.oidc.clients import ClientSpec, create_client
from identity.oidc.models import Client
from service.runtime import Runtime
from tests.support.forms import pkce_pair

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclasses.dataclass
class RP:
    client: Client
    secret: str | None
    redirect_uri: str

    @property
    def client_id(self) -> str:
        return self.client.client_id

    def basic(self) -> tuple[str, str]:
        assert self.secret is not None
        return (self.client_id, self.secret)


@dataclasses.dataclass
class Resident:
    account_id: str
    sid: str


def make_rp(session: Session, name: str = "Buurtplatform", **kw: Any) -> RP:
    redirect = kw.pop("redirect_uris", ["https://buurt.example.nl/oidc/callback"])
    spec = ClientSpec(
        name=name,
        redirect_uris=redirect,
        post_logout_redirect_uris=kw.pop(
            "post_logout_redirect_uris", ["https://buurt.example.nl/bye"]
        ),
        purpose=kw.pop("purpose", "Om je aan te melden bij het buurtplatform"),
        **kw,
    )
    client, secret = create_client(session, spec)
    session.commit()
    return RP(client, secret, redirect[0])


def make_resident(
    runtime: Runtime,
    session: Session,
    browser: TestClient | None = None,
    *,
    email: str = "bewoner@example.org",
    name: str | None = "Klaas Vaessen",
) -> Resident:
    from adapters.mail import FileOutbox
    from identity.accounts.passwords import Argon2Params, Passwords

    accounts = Accounts.from_settings(
        runtime.settings,
        runtime.subject_keys,
        FileOutbox(runtime.settings.data_dir / "outbox", "test@localhost"),
        passwords=Passwords(Argon2Params(time_cost=1, memory_kib=8, parallelism=1)),
    )
    account = create_account(
        accounts,
        session,
        email=email,
        name=name,
        password_hash=None,
        status=AccountStatus.ACTIVE,
        email_verified=True,
    )
    started = start_browser_session(session, account.id, ttl=accounts.session_ttl)
    session.commit()
    if browser is not None:
        browser.cookies.set(SESSION_COOKIE, started.sid)
    return Resident(account.id, started.sid)


def auth_params(rp: RP, challenge: str, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": "openid email profile",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def hidden_fields(html: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(html))


def consent(browser: TestClient, location: str, allow: list[str], decision: str = "allow") -> Any:
    """Open the consent page at `location`, tick `allow`, submit `decision`."""
    page = browser.get(location)
    assert page.status_code == 200, page.text
    form = hidden_fields(page.text)
    body = [(k, v) for k, v in form.items() if k != "claims"]
    body += [("claims", c) for c in allow]
    body.append(("decision", decision))
    return browser.post(
        urlsplit(location).path,
        content=urlencode(body),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def code_flow(
    browser: TestClient, rp: RP, allow: list[str] | None = None, **extra: str
) -> tuple[dict[str, str], str, dict[str, str]]:
    """authorize (+ consent if asked) → redirect query, the verifier, and the request params."""
    verifier, challenge = pkce_pair()
    params = auth_params(rp, challenge, **extra)
    response = browser.get("/authorize", params=params, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    if location.startswith("/authorize/continue/"):
        response = consent(browser, location, allow or [])
        assert response.status_code == 303, response.text
        location = response.headers["location"]
    assert location.startswith(rp.redirect_uri), location
    return query_of(location), verifier, params


def exchange(browser: TestClient, rp: RP, code: str, verifier: str) -> Any:
    return browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
        },
        auth=rp.basic(),
    )


def verify_id_token(browser: TestClient, token: str, audience: str) -> dict[str, Any]:
    """The claims of an ID token from the app `browser` talks to, after checking its
    signature with the key its header names in the app's `/jwks.json`, its audience and
    its issuer (the app's address)."""
    jwks = jwt.PyJWKSet.from_dict(browser.get("/jwks.json").json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256", "ES256"],
        audience=audience,
        issuer=str(browser.base_url),
    )
    return claims
