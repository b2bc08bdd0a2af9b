"""What the specifications let a relying party leave out, and stock RPs do (omniauth_openid_connect,
tests/e2e/platforms/test_omniauth.py), accepted exactly as far as they allow and no further:

- RFC 9700 §2.1.1: a confidential OpenID Connect client may bind its code with a `nonce`
  instead of PKCE; a public client may not, and without PKCE no code_verifier may follow at
  the token endpoint (PKCE downgrade, §4.8.2).
- RP-Initiated Logout 1.0 §2: `post_logout_redirect_uri` without `id_token_hint` or
  `client_id`, when some client registered it; the resident confirms first."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.runtime import Runtime
from tests.support.oidc import (
    RP,
    auth_params,
    code_flow,
    hidden_fields,
    make_resident,
    make_rp,
    pkce_pair,
    query_of,
)

NO_PKCE = {"code_challenge": None, "code_challenge_method": None}


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def browser(client: TestClient, runtime: Runtime, session: Session) -> TestClient:
    make_resident(runtime, session, client)
    return client


def token_request(rp: RP, code: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        **extra,
    }


def test_confidential_client_binds_its_code_with_a_nonce_instead_of_pkce(
    browser: TestClient, rp: RP
) -> None:
    query, _, params = code_flow(browser, rp, allow=["email"], **NO_PKCE)
    response = browser.post("/token", data=token_request(rp, query["code"]), auth=rp.basic())
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["id_token"], options={"verify_signature": False})
    assert claims["nonce"] == params["nonce"]


def test_without_pkce_a_code_verifier_at_the_token_endpoint_is_a_downgrade(
    browser: TestClient, rp: RP
) -> None:
    query, verifier, _ = code_flow(browser, rp, allow=["email"], **NO_PKCE)
    response = browser.post(
        "/token",
        data=token_request(rp, query["code"], code_verifier=verifier),
        auth=rp.basic(),
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_with_pkce_the_code_verifier_is_still_required(browser: TestClient, rp: RP) -> None:
    query, _, _ = code_flow(browser, rp, allow=["email"])
    response = browser.post("/token", data=token_request(rp, query["code"]), auth=rp.basic())
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("public", "override"),
    [
        (False, {**NO_PKCE, "nonce": None}),  # confidential, neither PKCE nor nonce
        (True, NO_PKCE),  # public, nonce only: PKCE is what protects a public client
        (False, {"code_challenge": None}),  # a method without a challenge is malformed PKCE
    ],
)
def test_without_pkce_or_a_confidential_nonce_the_request_is_refused(
    browser: TestClient, session: Session, public: bool, override: dict[str, str | None]
) -> None:
    rp = make_rp(session, "App" if public else "Site", public=public)
    _, challenge = pkce_pair()
    params = {k: v for k, v in {**auth_params(rp, challenge), **override}.items() if v}
    response = browser.get("/authorize", params=params, follow_redirects=False)
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_request" and "code_challenge" in query["error_description"]


def test_logout_with_only_a_registered_post_logout_uri_confirms_then_redirects(
    browser: TestClient, rp: RP
) -> None:
    query, _, _ = code_flow(browser, rp, allow=["email"], **NO_PKCE)
    tokens = browser.post("/token", data=token_request(rp, query["code"]), auth=rp.basic()).json()
    page = browser.get(
        "/logout", params={"post_logout_redirect_uri": "https://buurt.example.nl/bye"}
    )
    assert page.status_code == 200 and 'id="logout-form"' in page.text
    assert "Buurtplatform" in page.text  # the one client that registered the URI
    done = browser.post(
        "/logout/confirm",
        data={**hidden_fields(page.text), "decision": "logout"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "https://buurt.example.nl/bye"
    introspected = browser.post(
        "/introspect", data={"token": tokens["access_token"]}, auth=rp.basic()
    )
    assert introspected.json()["active"] is False


def test_logout_with_an_unregistered_post_logout_uri_never_redirects(
    browser: TestClient, rp: RP
) -> None:
    page = browser.get(
        "/logout",
        params={"post_logout_redirect_uri": "https://evil.example/bye"},
        follow_redirects=False,
    )
    assert page.status_code == 400 and "location" not in page.headers
