"""Input Kluis cannot process safely is refused where requests are read, with the endpoint's
own kind of error, never a 500 (#15 defects 1 and 2). On PostgreSQL a NUL character reaching
the driver was a 500 (`cannot contain NUL`); ~1 100 nested brackets were a RecursionError."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from core import untrusted

DEEP = "[" * 1100 + "]" * 1100
PROBLEM = "urn:kluis:problem:unsafe-input"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def deep_jwt() -> str:
    header = b64url(b'{"alg":"ES256","typ":"openid4vci-proof+jwt"}')
    payload = b64url(('{"nonce":' + DEEP + "}").encode())
    return f"{header}.{payload}.c2ln"


def assert_problem(response: object, status: int = 400) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["type"] == PROBLEM
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]


def assert_oauth_error(response: object) -> None:
    assert response.status_code == 400, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == "invalid_request"
    assert "not accepted" in body["error_description"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/status/%00"),
        ("GET", "/verifier/request/%00"),
        ("GET", "/authorize/continue/%00"),
        ("GET", "/authorize?client_id=%00&response_type=code"),
        ("GET", "/verifier/sessions/%00"),
        ("DELETE", "/verifier/sessions/%00"),
        ("GET", "/credential-offer/%00"),
    ],
)
def test_a_nul_in_a_path_or_query_is_a_problem(client: TestClient, method: str, path: str) -> None:
    assert_problem(client.request(method, path))


def test_a_nul_in_a_browser_request_is_an_error_page_not_a_json_body(client: TestClient) -> None:
    response = client.get(
        "/authorize?client_id=%00&response_type=code", headers={"Accept": "text/html"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text and "\x00" not in response.text


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/verifier/response", {"state": "\x00", "vp_token": "{}"}),
        ("/token", {"grant_type": "authorization_code", "code": "\x00"}),
        ("/token", {"grant_type": "refresh_token", "refresh_token": "a\x00b"}),
        ("/verifier/response", {"state": "s", "vp_token": json.dumps({"q": [DEEP]})}),
        ("/verifier/response", {"state": "s", "vp_token": '{"q": ' + DEEP + "}"}),
        ("/token", {"grant_type": "client_credentials", "client_assertion": deep_jwt()}),
    ],
)
def test_oauth_endpoints_refuse_nul_and_deep_json_with_invalid_request(
    client: TestClient, path: str, form: dict[str, str]
) -> None:
    assert_oauth_error(client.post(path, data=form))


@pytest.mark.parametrize("credentials", ["ADoA", base64.b64encode(b"%00:secret").decode()])
def test_basic_credentials_holding_a_nul_are_invalid_request(
    client: TestClient, credentials: str
) -> None:
    response = client.post(
        "/token",
        data={"grant_type": "authorization_code", "code": "c"},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert_oauth_error(response)


def test_deep_json_bodies_are_refused(client: TestClient) -> None:
    headers = {"Content-Type": "application/json"}
    assert_problem(client.post("/verifier/sessions", content=DEEP, headers=headers))
    assert_oauth_error(client.post("/credential", content=DEEP, headers=headers))
    proof = {"credential_configuration_id": "age", "proofs": {"jwt": [deep_jwt()]}}
    assert_oauth_error(client.post("/credential", json=proof))


def test_a_nul_escaped_in_a_json_string_is_refused(client: TestClient) -> None:
    body = '{"credential_configuration_id": "age\\u0000"}'
    response = client.post(
        "/credential", content=body, headers={"Content-Type": "application/json"}
    )
    assert_oauth_error(response)


def test_an_oversized_body_is_refused_without_reading_it_all(client: TestClient) -> None:
    big = "x" * (untrusted.MAX_BODY_BYTES + 1)
    assert_problem(client.post("/verifier/sessions", content=big), status=413)


def test_ordinary_input_still_passes(client: TestClient) -> None:
    """Dots, tildes and brackets in ordinary values are not mistaken for tokens or deep JSON."""
    response = client.post(
        "/token", data={"grant_type": "authorization_code", "code": "jan.jansen~x.y"}
    )
    assert response.json()["error"] == "invalid_client"  # it got as far as client authentication
    shallow = json.dumps({"a": [[[[{"b": "c"}]]]] * 40})  # many brackets, little depth
    assert not untrusted.nested_too_deep(shallow.encode())
    assert untrusted.nested_too_deep(('"[[[[" ' + DEEP).encode())
    assert not untrusted.nested_too_deep(('["' + "[" * 100 + '"]').encode())
