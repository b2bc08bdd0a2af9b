"""The grant read of the token and UserInfo endpoints also fetches the active signing key's kid
and the resident's wrapped data key (identity/oidc/prefetch.py). What those reads decided before
still holds: a rotation is followed by the next token, and a destroyed data key releases
nothing."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.runtime import Runtime
from tests.support.oidc import RP, code_flow, exchange, make_resident, make_rp

ALLOW = ["email", "email_verified", "name", "preferred_username"]


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


def _tokens(browser: TestClient, rp: RP) -> dict[str, str]:
    query, verifier, _ = code_flow(browser, rp, allow=ALLOW)
    response = exchange(browser, rp, query["code"], verifier)
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def _refresh(browser: TestClient, rp: RP, value: str) -> dict[str, str]:
    data = {"grant_type": "refresh_token", "refresh_token": value}
    response = browser.post("/token", data=data, auth=rp.basic())
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_the_next_id_token_after_a_rotation_is_signed_with_the_new_key(
    client: TestClient, runtime: Runtime, session: Session, rp: RP
) -> None:
    make_resident(runtime, session, client)
    first = _tokens(client, rp)
    before = jwt.get_unverified_header(first["id_token"])["kid"]
    new = runtime.keyring.rotate(session, "RS256", publish_delay=dt.timedelta())
    session.commit()
    assert new.kid != before
    refreshed = _refresh(client, rp, first["refresh_token"])
    assert jwt.get_unverified_header(refreshed["id_token"])["kid"] == new.kid
    second = _tokens(client, rp)  # the code exchange follows it too
    assert jwt.get_unverified_header(second["id_token"])["kid"] == new.kid


def test_userinfo_releases_nothing_once_the_data_key_is_destroyed(
    client: TestClient, runtime: Runtime, session: Session, rp: RP
) -> None:
    resident = make_resident(runtime, session, client)
    access = _tokens(client, rp)["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    assert client.get("/userinfo", headers=headers).json()["email"]
    assert runtime.subject_keys.destroy(session, resident.account_id)
    session.commit()
    response = client.get("/userinfo", headers=headers)
    assert response.status_code != 200
    assert "email" not in response.text and "bewoner" not in response.text
