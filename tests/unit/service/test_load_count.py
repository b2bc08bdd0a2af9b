"""The app's outermost middleware counts the requests in flight for `core.offload`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from core import Load
from service.middleware import RequestContextMiddleware


def test_the_middleware_counts_requests_until_they_are_answered_even_when_they_fail() -> None:
    app = FastAPI()
    seen: list[int] = []
    before = Load.active

    @app.get("/count")
    async def count() -> dict[str, int]:
        seen.append(Load.active - before)
        return {"active": Load.active - before}

    @app.get("/fail")
    async def fail() -> None:
        seen.append(Load.active - before)
        raise RuntimeError("boom")

    app.add_middleware(RequestContextMiddleware, hsts=False, oauth_paths=set())
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/count").json() == {"active": 1}
        assert client.get("/fail").status_code == 500
        assert client.get("/count").status_code == 200
    assert seen == [1, 1, 1]
    assert Load.active == before
