from __future__ import annotations

import html
import json
import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.errors import InvalidGrant, NotFound
from service.app import create_app_from_runtime
from service.runtime import Runtime

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_readiness_reports_unreachable_database(app: FastAPI) -> None:
    from core.db import Database

    app.state.db = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


def test_jwks_is_public_only_and_cacheable(client: TestClient) -> None:
    response = client.get("/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    assert "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert {k["kty"] for k in keys} >= {"RSA", "EC"}
    assert all("d" not in k for k in keys)


def test_security_headers_and_request_id(client: TestClient) -> None:
    response = client.get("/", headers={"X-Request-ID": "abc12345-req"})
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["x-request-id"] == "abc12345-req"
    assert "strict-transport-security" not in response.headers  # development: no HSTS
    weird = client.get("/", headers={"X-Request-ID": "<script>"})
    assert weird.headers["x-request-id"] != "<script>"


def test_unknown_route_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and body["type"].startswith("urn:kluis:problem:")
    assert body["instance"] == f"urn:kluis:request:{response.headers['x-request-id']}"


def test_browsers_get_an_html_error_page(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-request-id"] in response.text


@pytest.mark.parametrize(
    ("query", "accept_language", "expected", "phrase"),
    [
        ("", "", "nl", "Welkom bij Kluis"),
        ("", "en-GB,en;q=0.9", "en", "Welcome to Kluis"),
        ("", "de, en;q=0.5, nl;q=0.8", "nl", "Welkom bij Kluis"),
        ("?lang=en", "nl", "en", "Welcome to Kluis"),
        ("?lang=xx", "", "nl", "Welkom bij Kluis"),
    ],
)
def test_pages_speak_dutch_by_default_and_english_on_request(
    client: TestClient, query: str, accept_language: str, expected: str, phrase: str
) -> None:
    response = client.get("/" + query, headers={"Accept-Language": accept_language})
    assert response.headers["content-language"] == expected
    assert f'<html lang="{expected}">' in response.text
    assert phrase in response.text


def test_language_choice_is_remembered(client: TestClient) -> None:
    client.get("/?lang=en")
    assert "Welcome to Kluis" in client.get("/").text


def test_the_language_switch_keeps_the_pages_query(client: TestClient) -> None:
    """A resident who switches language on the way to a platform's login gets back to the
    platform: the switch keeps `return_to` (and every other parameter) and replaces `lang`."""
    page = client.get("/login?return_to=/authorize/continue/abc&lang=nl")
    switch = re.search(r'<a href="([^"]+)" hreflang="en"', page.text)
    assert switch is not None
    assert html.unescape(switch[1]) == "?return_to=%2Fauthorize%2Fcontinue%2Fabc&lang=en"
    english = client.get("/login" + html.unescape(switch[1]))
    assert english.headers["content-language"] == "en"
    assert 'value="/authorize/continue/abc"' in english.text  # still on its way back
    # an error page's switch repeats nothing of the refused request
    missing = client.get(
        "/no-such-page?next=https://elsewhere.example&lang=nl", headers={"Accept": "text/html"}
    )
    assert missing.status_code == 404 and 'href="?lang=en" hreflang="en"' in missing.text
    # the answer to a form has no switch: a GET of its address would lose what it showed
    token = re.search(r'name="csrf_token" value="([^"]+)"', english.text)
    assert token is not None
    form = {"csrf_token": token[1], "email": "x@example.org", "password": "wrong password 1"}
    answered = client.post("/login?lang=en", data=form)
    assert answered.status_code == 400 and "<form" in answered.text  # re-rendered with its error
    assert 'hreflang="' not in answered.text


def test_pages_name_their_icon_and_the_browsers_default_address_leads_to_it(
    client: TestClient,
) -> None:
    assert '<link rel="icon" href="/static/favicon.svg"' in client.get("/").text
    old_default = client.get("/favicon.ico", follow_redirects=False)
    assert old_default.status_code == 301
    assert old_default.headers["location"] == "/static/favicon.svg"
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_page_is_accessible_markup(client: TestClient) -> None:
    html = client.get("/").text
    assert 'href="#main"' in html and 'id="main"' in html
    assert '<meta name="viewport"' in html
    assert "<h1>" in html


@pytest.fixture
def failing_app(runtime: Runtime) -> FastAPI:
    app = create_app_from_runtime(runtime)  # its own: the shared app keeps its routes

    @app.get("/test/boom")
    def boom() -> None:
        raise RuntimeError("internal detail: table secret_things")

    @app.post("/test/token")
    def token() -> None:
        raise InvalidGrant("authorization code was already used")

    @app.get("/test/missing")
    def missing() -> None:
        raise NotFound("No such session.")

    return app


def test_unexpected_errors_hide_internals_and_give_a_reference(failing_app: FastAPI) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        response = client.get("/test/boom")
    assert response.status_code == 500
    body = response.json()
    assert "secret_things" not in response.text
    assert response.headers["x-request-id"] in body["detail"]


def test_oauth_errors_use_rfc6749_shape(failing_app: FastAPI) -> None:
    with TestClient(failing_app) as client:
        response = client.post("/test/token")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "authorization code was already used",
    }
    assert response.headers["cache-control"] == "no-store"


def test_problem_errors_use_rfc9457_shape(failing_app: FastAPI) -> None:
    with TestClient(failing_app) as client:
        response = client.get("/test/missing")
    assert response.status_code == 404
    assert response.json()["detail"] == "No such session."
    assert response.json()["type"] == "urn:kluis:problem:not-found"


def test_request_logs_are_json_without_query_strings(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    from core.logging import JsonFormatter

    with caplog.at_level(logging.INFO, logger="kluis.http"):
        client.get("/?login_hint=jan@example.org&code=secret-code")
    records = [r for r in caplog.records if r.name == "kluis.http"]
    assert records
    line = JsonFormatter().format(records[-1])
    entry = json.loads(line)
    assert entry["path"] == "/" and entry["status"] == 200 and entry["request_id"] != "-"
    assert "jan@example.org" not in line and "secret-code" not in line


def test_log_formatter_redacts_personal_fields() -> None:
    from core.logging import JsonFormatter

    record = logging.makeLogRecord({"msg": "x", "email": "jan@example.org", "kid": "k1"})
    line = JsonFormatter().format(record)
    assert "jan@example.org" not in line and '"kid": "k1"' in line


def test_the_home_page_and_header_lead_somewhere_for_visitors_and_residents(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    import re

    from tests.support.oidc import make_resident

    visitor = client.get("/").text
    assert 'href="/login"' in visitor and 'href="/register"' in visitor
    assert 'action="/logout-local"' not in visitor
    english = client.get("/?lang=en").text
    assert "Create an account" in english and "Log in" in english

    make_resident(runtime, session, client)
    resident = client.get("/account/consents").text  # any page: the header is the same
    assert 'href="/account"' in resident and 'action="/logout-local"' in resident
    assert 'href="/account"' in client.get("/").text
    [token] = re.findall(
        r'<form method="post" action="/logout-local" class="inline-form">\s*'
        r'<input type="hidden" name="csrf_token" value="([^"]+)"',
        resident,
    )
    out = client.post("/logout-local", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 303  # logged out
