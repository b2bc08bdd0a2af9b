"""While the database cannot be reached (a failover, a restart), requests answer a clean 503
that says to retry: a problem document, the OAuth `temporarily_unavailable` error on OAuth
endpoints, the error page in browsers. Never a 500, and nothing about the database leaks."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from core.db import Database
from service import app as service_app
from service.runtime import Runtime
from tests.functional.rights.test_vouching_cli import OneRound
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


def test_the_background_worker_logs_a_lost_database_once_a_round_without_a_traceback(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    monkeypatch.setattr(
        runtime, "db", Database.from_url(f"postgresql+psycopg://kluis@127.0.0.1:{port}/kluis")
    )
    with caplog.at_level(logging.WARNING, logger="kluis.app"):
        service_app._outbox_loop(runtime, OneRound())
    runtime.db.dispose()
    [record] = [r for r in caplog.records if r.name == "kluis.app"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == "background worker: database unavailable; retrying"
    # the driver's error class only: its message names the server
    assert record.__dict__["error"] == "OperationalError"


def test_the_background_worker_logs_any_other_database_error_with_its_traceback(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refused() -> int:
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    monkeypatch.setattr(runtime.outbox, "deliver_due", refused)
    with caplog.at_level(logging.WARNING, logger="kluis.app"):
        service_app._outbox_loop(runtime, OneRound())
    [record] = [r for r in caplog.records if r.name == "kluis.app"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.getMessage() == "background worker failed; retrying"
