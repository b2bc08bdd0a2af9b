"""The authorization code flow end to end, in-process: every step and its failure paths."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.runtime import Runtime
from tests.support.oidc import (
    RP,
    auth_params,
    code_flow,
    consent,
    exchange,
    make_resident,
    make_rp,
    pkce_pair,
    query_of,
    verify_id_token,
)

ISSUER = "http://testserver"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def browser(client: TestClient, runtime: Runtime, session: Session) -> TestClient:
    make_resident(runtime, session, client)
    return client


def test_discovery_document_describes_the_provider(client: TestClient) -> None:
    doc = client.get("/.well-known/openid-configuration").json()
    assert doc["issuer"] == ISSUER
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["response_types_supported"] == ["code"]
    assert "pairwise" in doc["subject_types_supported"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["jwks_uri"] == ISSUER + "/jwks.json"
    for endpoint in (
        "token_endpoint",
        "userinfo_endpoint",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ):
        assert doc[endpoint].startswith(ISSUER + "/")


def test_full_code_flow_releases_only_consented_claims(browser: TestClient, rp: RP) -> None:
    query, verifier, params = code_flow(browser, rp, allow=["email", "email_verified"])
    assert query["state"] == params["state"] and query["iss"] == ISSUER
    response = exchange(browser, rp, query["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"]
    claims = verify_id_token(browser, body["id_token"], rp.client_id)
    assert claims["nonce"] == params["nonce"]
    assert claims["acr"] == "urn:kluis:acr:password" and claims["amr"] == ["pwd"]
    assert {"auth_time", "sid", "at_hash", "iat", "exp"} <= set(claims)
    digest = hashlib.sha256(body["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    info = browser.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200
    assert info.json() == {
        "sub": claims["sub"],
        "email": "bewoner@example.org",
        "email_verified": True,
    }


def test_single_sign_on_skips_consent_until_more_is_asked(browser: TestClient, rp: RP) -> None:
    code_flow(browser, rp, allow=["email"])
    _, challenge = pkce_pair()
    again = browser.get("/authorize", params=auth_params(rp, challenge), follow_redirects=False)
    assert again.headers["location"].startswith(rp.redirect_uri)  # no consent page
    more = browser.get(
        "/authorize",
        params=auth_params(rp, challenge, scope="openid email profile residence"),
        follow_redirects=False,
    )
    assert more.headers["location"].startswith("/authorize/continue/")
    forced = browser.get(
        "/authorize", params=auth_params(rp, challenge, prompt="consent"), follow_redirects=False
    )
    assert forced.headers["location"].startswith("/authorize/continue/")


def test_consent_page_lists_claims_with_purpose_unticked_by_default(
    browser: TestClient, rp: RP
) -> None:
    _, challenge = pkce_pair()
    start = browser.get("/authorize", params=auth_params(rp, challenge), follow_redirects=False)
    page = browser.get(start.headers["location"])
    assert "Om je aan te melden bij het buurtplatform" in page.text
    assert 'name="claims" value="email"' in page.text
    assert (
        'name="decision" value="allow"' in page.text and 'name="decision" value="deny"' in page.text
    )
    assert "checked" not in page.text.split('value="email"')[1].split(">")[0]


def test_deny_returns_access_denied_to_the_client(browser: TestClient, rp: RP) -> None:
    _, challenge = pkce_pair()
    params = auth_params(rp, challenge)
    start = browser.get("/authorize", params=params, follow_redirects=False)
    response = consent(browser, start.headers["location"], [], decision="deny")
    query = query_of(response.headers["location"])
    assert query == {
        "error": "access_denied",
        "error_description": query["error_description"],
        "state": params["state"],
        "iss": ISSUER,
    }


def test_essential_claims_in_id_token_via_claims_parameter(browser: TestClient, rp: RP) -> None:
    claims_param = json.dumps({"id_token": {"name": {"essential": True}}})
    query, verifier, _ = code_flow(browser, rp, allow=[], claims=claims_param, scope="openid")
    body = exchange(browser, rp, query["code"], verifier).json()
    claims = verify_id_token(browser, body["id_token"], rp.client_id)
    assert claims["name"] == "Klaas Vaessen"
    assert "email" not in claims


def test_consent_post_without_csrf_is_refused_and_issues_nothing(
    browser: TestClient, rp: RP
) -> None:
    _, challenge = pkce_pair()
    start = browser.get("/authorize", params=auth_params(rp, challenge), follow_redirects=False)
    response = browser.post(
        start.headers["location"],
        data={"decision": "allow", "claims": "email"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "location" not in response.headers


def test_pending_request_cannot_be_continued_from_another_browser(
    browser: TestClient, rp: RP, app: object, runtime: Runtime, session: Session
) -> None:
    _, challenge = pkce_pair()
    start = browser.get("/authorize", params=auth_params(rp, challenge), follow_redirects=False)
    with TestClient(app, base_url=ISSUER) as other:  # type: ignore[arg-type]
        make_resident(runtime, session, other, email="ander@example.org")
        page = other.get(start.headers["location"])
    assert page.status_code == 400


def test_es256_id_tokens_for_clients_that_ask(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    make_resident(runtime, session, client)
    rp = make_rp(session, "EC", id_token_alg="ES256")
    query, verifier, _ = code_flow(client, rp, allow=[])
    token = exchange(client, rp, query["code"], verifier).json()["id_token"]
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert verify_id_token(client, token, rp.client_id)["aud"] == rp.client_id


def test_userinfo_accepts_post_with_form_token(browser: TestClient, rp: RP) -> None:
    query, verifier, _ = code_flow(browser, rp, allow=["email"])
    access = exchange(browser, rp, query["code"], verifier).json()["access_token"]
    posted = browser.post("/userinfo", data={"access_token": access})
    assert posted.status_code == 200 and posted.json()["email"] == "bewoner@example.org"
    in_query = browser.get("/userinfo", params={"access_token": access})
    assert in_query.status_code == 401  # RFC 6750 §2.3 is not offered: tokens leak in URLs


def test_sector_identifier_uri_groups_hosts_into_one_sector(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    import http.server
    import json as jsonlib
    import threading

    from click.testing import CliRunner

    from identity.oidc.cli import clients_cli

    uris = ["http://127.0.0.1:1/a", "http://localhost:1/b"]

    class Sector(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = jsonlib.dumps(uris).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sector_uri = f"http://127.0.0.1:{server.server_address[1]}/sector.json"
        args = ["add", "--name", "Twee hosts", "--sector-identifier-uri", sector_uri, "--json"]
        for uri in uris:
            args += ["--redirect-uri", uri]
        result = CliRunner().invoke(clients_cli, args, obj=runtime)
        assert result.exit_code == 0, result.output
        assert jsonlib.loads(result.output)["sector_identifier"] == "127.0.0.1"
        missing = CliRunner().invoke(
            clients_cli,
            [*args, "--redirect-uri", "http://127.0.0.1:1/not-listed"],
            obj=runtime,
        )
        assert missing.exit_code != 0 and "sector_identifier_uri" in missing.output
    finally:
        server.shutdown()
        server.server_close()
