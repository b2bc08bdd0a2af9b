"""The endpoints of every login and every QR verification are routed by
`service.fastpath.HotRoutes` (issue #14), and answer exactly as through FastAPI's routes."""

from __future__ import annotations

import re
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from core import Params
from core.params import read_params
from service.app import HOT_ROUTES, create_app_from_runtime
from service.fastpath import HotRoutes
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER

FORM = {"content-type": "application/x-www-form-urlencoded"}

# Requests of each hot endpoint that need no login: refusals of every kind, and methods the
# paths do not take
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/authorize", {}),
    ("GET", "/authorize?client_id=nobody&response_type=code&scope=openid", {}),
    ("GET", "/authorize?client_id=%00&response_type=code", {}),
    ("GET", "/authorize?client_id=a&client_id=b", {}),
    ("POST", "/authorize", {"data": {"client_id": "nobody", "response_type": "code"}}),
    ("POST", "/authorize", {"json": {"client_id": "nobody"}}),
    ("HEAD", "/authorize", {}),
    ("PUT", "/authorize", {}),
    ("POST", "/token", {}),
    ("POST", "/token", {"data": {"grant_type": "authorization_code", "code": "nope"}}),
    ("POST", "/token", {"data": {"grant_type": "refresh_token", "refresh_token": "nope"}}),
    ("POST", "/token", {"data": {"grant_type": "password"}}),
    ("POST", "/token", {"content": "grant_type=a&grant_type=b", "headers": FORM}),
    ("POST", "/token", {"content": "grant_type=%00", "headers": FORM}),
    ("POST", "/token", {"json": {"grant_type": "refresh_token"}}),
    ("POST", "/token", {"data": {"grant_type": "refresh_token"}, "auth": ("nobody", "x")}),
    ("GET", "/token", {}),
    ("GET", "/userinfo", {}),
    ("GET", "/userinfo", {"headers": {"Authorization": "Bearer nope"}}),
    ("POST", "/userinfo", {"data": {"access_token": "nope"}}),
    ("POST", "/userinfo", {"headers": {"Authorization": "Bearer " + "x" * 300}}),
    ("DELETE", "/userinfo", {}),
    ("POST", "/verifier/sessions", {}),
    ("POST", "/verifier/sessions", {"json": {"purpose": "x"}}),
    ("POST", "/verifier/sessions", {"json": {"purpose": "x"}, "auth": ("nobody", "x")}),
    ("GET", "/verifier/sessions/nope", {}),
    ("GET", "/verifier/sessions/nope?wait=9999", {}),
    ("GET", "/verifier/sessions/%00", {}),
    ("GET", "/verifier/request/nope", {}),
    ("POST", "/verifier/request/nope", {}),
    ("POST", "/verifier/response", {}),
    ("POST", "/verifier/response", {"data": {"state": "nope", "vp_token": "x"}}),
    ("POST", "/verifier/response", {"json": {"state": "nope"}}),
]


def comparable(response: Any) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers and body, with the request's id (different per request) taken out."""
    request_id = response.headers.get("x-request-id", "")
    text = response.text.replace(request_id, "<id>") if request_id else response.text
    text = re.sub(r'name="csrf_token" value="[^"]*"', "csrf", text)
    headers = sorted(
        (k, v.replace(request_id, "<id>") if request_id else v)
        for k, v in response.headers.multi_items()
        if k not in ("date", "set-cookie")
    )
    cookies = sorted(  # names and attributes; values differ per request
        ("set-cookie", re.sub(r"^([^=]*)=[^;]*", r"\1=<value>", v))
        for k, v in response.headers.multi_items()
        if k == "set-cookie"
    )
    return response.status_code, headers + cookies, text


@pytest.fixture
def direct_and_fastapi(app: FastAPI, runtime: Runtime) -> tuple[FastAPI, FastAPI]:
    """The shared app (hot routes first) and one without them, on the same runtime."""
    plain = create_app_from_runtime(runtime)
    assert isinstance(plain.router.routes[0], HotRoutes)
    del plain.router.routes[0]
    return app, plain


def test_the_hot_routes_are_first_in_the_app(app: FastAPI) -> None:
    first = app.router.routes[0]
    assert isinstance(first, HotRoutes)
    assert first.names == set(HOT_ROUTES)
    assert not any(isinstance(route, HotRoutes) for route in app.router.routes[1:])


def test_answers_are_the_same_as_through_fastapi(
    direct_and_fastapi: tuple[FastAPI, FastAPI],
) -> None:
    direct, plain = direct_and_fastapi
    with (
        TestClient(direct, base_url=TEST_ISSUER) as one,
        TestClient(plain, base_url=TEST_ISSUER) as other,
    ):
        for method, path, kwargs in REQUESTS:
            first = one.request(method, path, **kwargs)
            second = other.request(method, path, **kwargs)
            assert comparable(first) == comparable(second), (method, path, kwargs)
            assert first.status_code < 500, (method, path, first.text)


def test_hot_requests_skip_fastapis_dependency_solving(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    solved: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def spy(**kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await original(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", spy)
    one_each = [  # a request of each of HOT_ROUTES
        ("GET", "/authorize", {}),
        ("POST", "/authorize", {"data": {"client_id": "nobody"}}),
        ("POST", "/token", {"data": {"grant_type": "password"}}),
        ("GET", "/userinfo", {}),
        ("POST", "/userinfo", {"data": {"access_token": "nope"}}),
        ("POST", "/verifier/sessions", {"json": {"purpose": "x"}}),
        ("GET", "/verifier/sessions/nope", {}),
        ("GET", "/verifier/request/nope", {}),
        ("POST", "/verifier/response", {"data": {"state": "nope"}}),
    ]
    assert len(one_each) == len(HOT_ROUTES)
    for method, path, kwargs in one_each:
        assert client.request(method, path, **kwargs).status_code < 500
    assert solved == []
    assert client.get("/.well-known/openid-configuration").status_code == 200
    assert solved == ["/.well-known/openid-configuration"]


def test_dependency_overrides_are_honoured(app: FastAPI, client: TestClient) -> None:
    read: list[str] = []

    async def override(request: Request) -> Params:
        read.append(request.url.path)
        return await read_params(request)

    app.dependency_overrides[read_params] = override
    try:
        client.post("/token", data={"grant_type": "refresh_token"})
        client.get("/userinfo")
    finally:
        app.dependency_overrides.clear()
    assert read == ["/token", "/userinfo"]


def test_without_fastapis_telemetry_off_nothing_is_routed_directly(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.app.fastapi_telemetry", lambda: None)
    app = create_app_from_runtime(runtime)
    assert not any(isinstance(route, HotRoutes) for route in app.router.routes)


def test_the_api_document_still_lists_them(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/authorize", "/token", "/userinfo", "/verifier/sessions", "/verifier/response"):
        assert path in paths
