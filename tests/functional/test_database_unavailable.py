"""While the database cannot be reached (a failover, a restart), requests answer a clean 503
that says to retry: a problem document, the OAuth `temporarily_unavailable` error on OAuth
endpoints, the error page in browsers. Never a 500, and nothing about the database leaks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.db import Database
from tests.support.server import free_port


@pytest.fixture
def unreachable(app: FastAPI) -> Iterator[TestClient]:
    # a port nobody listens on: connecting is refused at once, as for a primary that is gone
    app.state.db = Database.from_url(f"postgresql+psycopg://kluis@127.0.0.1:{free_port()}/kluis")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.db.dispose()


def test_an_api_request_answers_a_503_problem_with_retry_after(unreachable: TestClient) -> None:
    response = unreachable.get("/jwks.json")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "2"
    body = response.json()
    assert body["type"] == "urn:kluis:problem:unavailable"
    assert body["status"] == 503
    assert "psycopg" not in response.text and "127.0.0.1" not in response.text


def test_an_oauth_endpoint_answers_temporarily_unavailable(unreachable: TestClient) -> None:
    form = {"grant_type": "authorization_code", "code": "x", "redirect_uri": "https://a.example"}
    response = unreachable.post("/token", data=form, auth=("some-client", "secret"))
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert response.headers["retry-after"] == "2"
    assert response.headers["cache-control"] == "no-store"


def test_a_browser_gets_the_error_page_in_its_language(unreachable: TestClient) -> None:
    headers = {"Accept": "text/html", "Accept-Language": "en"}
    response = unreachable.get("/jwks.json", headers=headers)
    assert response.status_code == 503
    assert "Kluis is unavailable for a moment. Try again in a few seconds." in response.text
