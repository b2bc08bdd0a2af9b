"""Starting a login by QR creates a verification session; one client address may start only a
few within the window (counted in the database, so every app process sees the same count).
Past the limit: 429 with Retry-After and a page that says why, and no session is created."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attestations.verifier.models import VerifierSession
from core.db import Database
from identity.accounts.models import LoginFailure
from service.app import create_app_from_runtime
from service.runtime import build_runtime
from service.settings import Settings
from tests.conftest import TEST_ISSUER, make_settings
from tests.support.accounts import csrf_token

LIMIT = 3


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url, wallet_login_max_starts_per_ip=LIMIT)


def start(browser: TestClient) -> int:
    token = csrf_token(browser, "/login")
    response = browser.post(
        "/login/wallet", data={"csrf_token": token, "return_to": "/account"}, follow_redirects=False
    )
    return response.status_code


def sessions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(VerifierSession)) or 0


def test_too_many_starts_from_one_address_get_429_and_create_nothing(
    app: FastAPI, session: Session
) -> None:
    with TestClient(app, base_url=TEST_ISSUER, client=("198.51.100.7", 1000)) as flooder:
        assert [start(flooder) for _ in range(LIMIT)] == [303] * LIMIT
        token = csrf_token(flooder, "/login")
        blocked = flooder.post("/login/wallet", data={"csrf_token": token}, follow_redirects=False)

    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert "te vaak geprobeerd om in te loggen met een wallet" in blocked.text
    assert "198.51.100.7" not in blocked.text
    assert sessions(session) == LIMIT
    stored = session.scalars(select(LoginFailure.key_hash)).all()
    assert stored and all("198.51.100.7" not in h for h in stored)  # a keyed hash only


def test_another_address_may_still_start(app: FastAPI) -> None:
    with TestClient(app, base_url=TEST_ISSUER, client=("198.51.100.7", 1000)) as flooder:
        for _ in range(LIMIT):
            start(flooder)
        assert start(flooder) == 429
    with TestClient(app, base_url=TEST_ISSUER, client=("203.0.113.5", 1000)) as resident:
        assert start(resident) == 303


def test_the_count_is_shared_by_every_app_process(
    app: FastAPI, settings: Settings, db: Database
) -> None:
    other = create_app_from_runtime(build_runtime(settings, db))
    with (
        TestClient(app, base_url=TEST_ISSUER, client=("198.51.100.7", 1)) as one,
        TestClient(other, base_url=TEST_ISSUER, client=("198.51.100.7", 2)) as two,
    ):
        for _ in range(LIMIT):
            assert start(one) == 303
        assert start(two) == 429


def test_the_page_speaks_english_on_request(app: FastAPI) -> None:
    with TestClient(
        app, base_url=TEST_ISSUER, client=("198.51.100.7", 1), headers={"Accept-Language": "en"}
    ) as flooder:
        for _ in range(LIMIT):
            start(flooder)
        token = csrf_token(flooder, "/login")
        blocked = flooder.post("/login/wallet", data={"csrf_token": token})
    assert blocked.status_code == 429
    assert "tried too often from this internet connection" in blocked.text
