"""Attacks on the provider fail: code and refresh reuse, PKCE, redirect URIs, prompt=none,
client authentication, pairwise subjects, token introspection and revocation."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from core.db import utcnow
from identity.accounts.models import Account
from identity.accounts.service import HANDLE_ALPHABET
from identity.accounts.sessions import ACR_PASSWORD
from identity.oidc.interaction import AUTH_TIME_LEEWAY
from service.runtime import Runtime
from tests.support.oidc import (
    RP,
    auth_params,
    code_flow,
    exchange,
    make_resident,
    make_rp,
    pkce_pair,
    query_of,
)

ISSUER = "http://testserver"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def browser(client: TestClient, runtime: Runtime, session: Session) -> TestClient:
    make_resident(runtime, session, client)
    return client


def _introspect(client: TestClient, rp: RP, token: str) -> dict[str, object]:
    response = client.post("/introspect", data={"token": token}, auth=rp.basic())
    assert response.status_code == 200
    return response.json()


def test_code_reuse_fails_and_revokes_tokens_issued_from_it(browser: TestClient, rp: RP) -> None:
    query, verifier, _ = code_flow(browser, rp, allow=["email"])
    first = exchange(browser, rp, query["code"], verifier).json()
    assert _introspect(browser, rp, first["access_token"])["active"] is True
    second = exchange(browser, rp, query["code"], verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert _introspect(browser, rp, first["access_token"])["active"] is False
    assert _introspect(browser, rp, first["refresh_token"])["active"] is False


def test_refresh_rotates_and_reuse_revokes_the_grant(browser: TestClient, rp: RP) -> None:
    query, verifier, _ = code_flow(browser, rp, allow=["email"])
    tokens = exchange(browser, rp, query["code"], verifier).json()
    refreshed = browser.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=rp.basic(),
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert _introspect(browser, rp, new["access_token"])["active"] is True
    replay = browser.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=rp.basic(),
    )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert _introspect(browser, rp, new["access_token"])["active"] is False
    after = browser.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
        auth=rp.basic(),
    )
    assert after.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"code_challenge": None, "nonce": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "email profile"}, "invalid_scope"),
        ({"request": "eyJ..."}, "request_not_supported"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"claims": "{not json"}, "invalid_request"),
    ],
)
def test_bad_authorization_requests_redirect_with_an_error(
    browser: TestClient, rp: RP, override: dict[str, str | None], error: str
) -> None:
    _, challenge = pkce_pair()
    params = auth_params(rp, challenge)
    for key, value in override.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    response = browser.get("/authorize", params=params, follow_redirects=False)
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["error"] == error and query["state"] == params["state"] and query["iss"] == ISSUER


def test_wrong_pkce_verifier_fails_at_the_token_endpoint(browser: TestClient, rp: RP) -> None:
    query, _, _ = code_flow(browser, rp, allow=[])
    other_verifier, _ = pkce_pair()
    response = exchange(browser, rp, query["code"], other_verifier)
    assert response.json()["error"] == "invalid_grant"
    missing = browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": rp.redirect_uri,
        },
        auth=rp.basic(),
    )
    assert missing.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/cb",
        "https://buurt.example.nl/oidc/callback/../../evil",
        "https://buurt.example.nl/oidc/callback?next=https://evil.example",
        "https://buurt.example.nl.evil.example/oidc/callback",
        "",
    ],
)
def test_unregistered_redirect_uri_never_redirects(
    browser: TestClient, rp: RP, redirect_uri: str
) -> None:
    _, challenge = pkce_pair()
    response = browser.get(
        "/authorize",
        params=auth_params(rp, challenge, redirect_uri=redirect_uri),
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "evil" not in response.text


def test_unknown_client_gets_an_error_page(client: TestClient, rp: RP) -> None:
    _, challenge = pkce_pair()
    response = client.get(
        "/authorize", params=auth_params(rp, challenge, client_id="kc_nope"), follow_redirects=False
    )
    assert response.status_code == 400 and "location" not in response.headers


def test_token_redirect_uri_must_match(browser: TestClient, session: Session) -> None:
    rp = make_rp(
        session, redirect_uris=["https://buurt.example.nl/a", "https://buurt.example.nl/b"]
    )
    query, verifier, _ = code_flow(browser, rp, allow=[])
    response = browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "code_verifier": verifier,
            "redirect_uri": "https://buurt.example.nl/b",
        },
        auth=rp.basic(),
    )
    assert response.json()["error"] == "invalid_grant"


def test_prompt_none_without_session_is_login_required(client: TestClient, rp: RP) -> None:
    _, challenge = pkce_pair()
    response = client.get(
        "/authorize", params=auth_params(rp, challenge, prompt="none"), follow_redirects=False
    )
    assert query_of(response.headers["location"])["error"] == "login_required"


def test_prompt_none_without_consent_is_consent_required(browser: TestClient, rp: RP) -> None:
    _, challenge = pkce_pair()
    response = browser.get(
        "/authorize", params=auth_params(rp, challenge, prompt="none"), follow_redirects=False
    )
    assert query_of(response.headers["location"])["error"] == "consent_required"


def test_no_session_sends_the_browser_to_login_and_back(client: TestClient, rp: RP) -> None:
    _, challenge = pkce_pair()
    response = client.get(
        "/authorize",
        params=auth_params(rp, challenge, login_hint="someone", ui_locales="en-GB"),
        follow_redirects=False,
    )
    location = response.headers["location"]
    assert location.startswith("/login?")
    query = query_of(location)
    assert query["return_to"].startswith("/authorize/continue/")
    assert query["login_hint"] == "someone" and query["lang"] == "en"


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "0"}])
def test_prompt_login_and_max_age_force_a_fresh_login(
    browser: TestClient, rp: RP, extra: dict[str, str]
) -> None:
    _, challenge = pkce_pair()
    # the session must predate the request by more than the clock leeway
    with time_machine.travel(utcnow() + AUTH_TIME_LEEWAY + dt.timedelta(seconds=1), tick=False):
        response = browser.get(
            "/authorize", params=auth_params(rp, challenge, **extra), follow_redirects=False
        )
    assert response.headers["location"].startswith("/login?")


def test_unknown_parameters_and_acr_values_are_ignored(browser: TestClient, rp: RP) -> None:
    query, verifier, params = code_flow(browser, rp, allow=[], foo="bar", acr_values="urn:other")
    # the code comes back with the request's state and Kluis as issuer, and nothing else
    assert set(query) == {"code", "state", "iss"}
    assert query["state"] == params["state"] and query["iss"] == ISSUER
    tokens = exchange(browser, rp, query["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    claims = jwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert claims["acr"] == ACR_PASSWORD  # an unknown acr value asks for nothing stronger
    assert "foo" not in claims


def test_pairwise_subjects_differ_per_sector_and_match_within_one(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    make_resident(runtime, session, client)
    a = make_rp(session, "A", redirect_uris=["https://a.example/cb"])
    a2 = make_rp(session, "A2", redirect_uris=["https://a.example/other"])
    b = make_rp(session, "B", redirect_uris=["https://b.example/cb"])
    pub = make_rp(session, "P", redirect_uris=["https://p.example/cb"], subject_type="public")
    subs = {}
    for name, rp in (("a", a), ("a2", a2), ("b", b), ("pub", pub)):
        query, verifier, _ = code_flow(client, rp, allow=[])
        token = exchange(client, rp, query["code"], verifier).json()["id_token"]
        subs[name] = jwt.decode(token, options={"verify_signature": False})["sub"]
    assert subs["a"] == subs["a2"]
    assert subs["a"] != subs["b"]
    assert len(subs["pub"]) == 32 and subs["pub"] not in (subs["a"], subs["b"])


ID_TOKEN_USERNAME = '{"id_token": {"preferred_username": null}}'


def test_the_user_name_a_platform_sees_is_its_sectors_and_never_the_kluis_one(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    """`preferred_username` is pairwise like `sub` (DESIGN.md invariant 4): the Kluis user
    name is one global identifier, and half of a login, so it never leaves; a public client
    (whose `sub` is global by the operator's choice) gets a name of its sector too."""
    resident = make_resident(runtime, session, client)
    account = session.get(Account, resident.account_id)
    assert account is not None
    a = make_rp(session, "A", redirect_uris=["https://a.example/cb"])
    a2 = make_rp(session, "A2", redirect_uris=["https://a.example/other"])
    b = make_rp(session, "B", redirect_uris=["https://b.example/cb"])
    pub = make_rp(session, "P", redirect_uris=["https://p.example/cb"], subject_type="public")
    names = {}
    for label, rp in (("a", a), ("a2", a2), ("b", b), ("pub", pub)):
        query, verifier, _ = code_flow(
            client, rp, allow=["preferred_username"], claims=ID_TOKEN_USERNAME
        )
        tokens = exchange(client, rp, query["code"], verifier).json()
        in_token = jwt.decode(tokens["id_token"], options={"verify_signature": False})
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        userinfo = client.get("/userinfo", headers=auth).json()
        assert in_token["preferred_username"] == userinfo["preferred_username"]
        names[label] = userinfo["preferred_username"]
    assert names["a"] == names["a2"]  # one sector, one name
    assert len({names["a"], names["b"], names["pub"]}) == 3
    for name in names.values():
        assert re.fullmatch(rf"bewoner-[{HANDLE_ALPHABET}]{{10}}", name), name
        assert name != account.handle


def test_client_authentication_methods(browser: TestClient, session: Session) -> None:
    post_rp = make_rp(session, "Post", token_endpoint_auth_method="client_secret_post")
    query, verifier, _ = code_flow(browser, post_rp, allow=[])
    form = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "code_verifier": verifier,
        "redirect_uri": post_rp.redirect_uri,
        "client_id": post_rp.client_id,
    }
    wrong = browser.post("/token", data={**form, "client_secret": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    basic_instead = browser.post("/token", data=form, auth=post_rp.basic())
    assert basic_instead.json()["error"] == "invalid_client"  # must use its registered method
    ok = browser.post("/token", data={**form, "client_secret": post_rp.secret})
    assert ok.status_code == 200, ok.text


def test_public_client_uses_pkce_without_secret(browser: TestClient, session: Session) -> None:
    public = make_rp(session, "App", public=True)
    assert public.secret is None
    query, verifier, _ = code_flow(browser, public, allow=[])
    response = browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "code_verifier": verifier,
            "redirect_uri": public.redirect_uri,
            "client_id": public.client_id,
        },
    )
    assert response.status_code == 200, response.text


def test_private_key_jwt_and_assertion_replay(browser: TestClient, session: Session) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk["kid"] = "k1"
    rp = make_rp(session, "JWT", jwks={"keys": [jwk]})
    assert rp.client.token_endpoint_auth_method == "private_key_jwt" and rp.secret is None

    def assertion(aud: str = ISSUER + "/token", lifetime: int = 60) -> str:
        now = int(time.time())
        claims = {
            "iss": rp.client_id,
            "sub": rp.client_id,
            "aud": aud,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})

    query, verifier, _ = code_flow(browser, rp, allow=[])
    base = {
        "grant_type": "authorization_code",
        "code": query["code"],
        "code_verifier": verifier,
        "redirect_uri": rp.redirect_uri,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    bad_aud = browser.post("/token", data={**base, "client_assertion": assertion("https://x")})
    assert bad_aud.json()["error"] == "invalid_client"
    too_long = browser.post(
        "/token", data={**base, "client_assertion": assertion(lifetime=2 * 3600)}
    )
    assert too_long.json()["error"] == "invalid_client"
    good = assertion()
    ok = browser.post("/token", data={**base, "client_assertion": good})
    assert ok.status_code == 200, ok.text
    replay = browser.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": ok.json()["refresh_token"],
            "client_assertion_type": base["client_assertion_type"],
            "client_assertion": good,
        },
    )
    assert replay.json()["error"] == "invalid_client"


def test_tokens_are_bound_to_their_client(browser: TestClient, rp: RP, session: Session) -> None:
    other = make_rp(session, "Other", redirect_uris=["https://other.example/cb"])
    query, verifier, _ = code_flow(browser, rp, allow=[])
    stolen = browser.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "code_verifier": verifier,
            "redirect_uri": rp.redirect_uri,
        },
        auth=other.basic(),
    )
    assert stolen.json()["error"] == "invalid_grant"
    tokens = exchange(browser, rp, query["code"], verifier).json()
    assert _introspect(browser, other, tokens["access_token"]) == {"active": False}


def test_revocation_of_refresh_token_revokes_access_tokens(browser: TestClient, rp: RP) -> None:
    query, verifier, _ = code_flow(browser, rp, allow=[])
    tokens = exchange(browser, rp, query["code"], verifier).json()
    response = browser.post("/revoke", data={"token": tokens["refresh_token"]}, auth=rp.basic())
    assert response.status_code == 200
    assert _introspect(browser, rp, tokens["access_token"])["active"] is False
    unknown = browser.post("/revoke", data={"token": "not-a-token"}, auth=rp.basic())
    assert unknown.status_code == 200


def test_userinfo_rejects_missing_and_invalid_tokens(client: TestClient) -> None:
    missing = client.get("/userinfo")
    assert missing.status_code == 401 and "Bearer" in missing.headers["www-authenticate"]
    bad = client.get("/userinfo", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_token"


def test_token_endpoint_errors(client: TestClient, rp: RP) -> None:
    assert client.post("/token", data={}, auth=rp.basic()).json()["error"] == "invalid_request"
    assert (
        client.post("/token", data={"grant_type": "password"}, auth=rp.basic()).json()["error"]
        == "unsupported_grant_type"
    )
    json_body = client.post("/token", json={"grant_type": "authorization_code"})
    assert json_body.json()["error"] == "invalid_request"
    unknown = client.post("/token", data={"grant_type": "x"}, auth=("kc_nope", "x"))
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"


def test_audit_log_records_tokens_and_consent_without_personal_data(
    browser: TestClient, rp: RP, session: Session
) -> None:
    code_flow(browser, rp, allow=["email", "name"])
    query, verifier, _ = code_flow(browser, rp)
    tokens = exchange(browser, rp, query["code"], verifier).json()
    browser.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    entries = list(session.scalars(select(AuditEntry)))
    events = [e.event for e in entries]
    assert {"consent.given", "consent.refused", "token.issued", "claims.released"} <= set(events)
    blob = "".join(e.entry for e in entries)
    assert "bewoner@example.org" not in blob and "Klaas" not in blob
