"""How the resident authenticated reaches the platform (`acr`, `amr`, `auth_time` in the ID
token), and a platform can require login by wallet (`acr_values`, essential `acr` claim)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from keys import SubjectKeys
from service.runtime import Runtime
from tests.support.oidc import (
    RP,
    Resident,
    auth_params,
    code_flow,
    exchange,
    make_resident,
    make_rp,
    pkce_pair,
    query_of,
    verify_id_token,
)
from tests.support.wallet import Wallet
from tests.support.wallet_login import complete, phone_for, start

ISSUER = "http://testserver"
ATTESTED = "urn:kluis:acr:attested"
PASSWORD = "urn:kluis:acr:password"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    """Logged in with a password in `client`."""
    return make_resident(runtime, session, client)


@pytest.fixture
def phone(app: FastAPI, session: Session, subject_keys: SubjectKeys, resident: Resident) -> Wallet:
    return phone_for(app, session, subject_keys, resident.account_id)


def id_token_claims(client: TestClient, rp: RP, code: str, verifier: str) -> dict[str, Any]:
    response = exchange(client, rp, code, verifier)
    assert response.status_code == 200, response.text
    return verify_id_token(client, response.json()["id_token"], rp.client_id)


def authorize(client: TestClient, rp: RP, **extra: str) -> tuple[str, str]:
    """GET /authorize (scope openid only: no consent needed); (Location, code_verifier)."""
    verifier, challenge = pkce_pair()
    params = auth_params(rp, challenge, scope="openid", **extra)
    response = client.get("/authorize", params=params, follow_redirects=False)
    assert response.status_code == 302, response.text
    return response.headers["location"], verifier


def log_in_by_wallet(client: TestClient, phone: Wallet, login_location: str) -> str:
    """From the login page the authorization request sent us to: wallet login; where the
    completed login goes next."""
    return_to = query_of(login_location)["return_to"]
    started = start(client, return_to=return_to)
    assert phone.present(started.qr_payload).status_code == 200
    done = complete(client, started)
    assert done.status_code == 303, done.text
    location: str = done.headers["location"]
    return location


def test_password_login_gives_acr_password_amr_pwd_and_auth_time(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    query, verifier, _ = code_flow(client, rp, scope="openid")

    claims = id_token_claims(client, rp, query["code"], verifier)

    assert claims["acr"] == PASSWORD and claims["amr"] == ["pwd"]
    assert abs(claims["auth_time"] - time.time()) < 60


def test_wallet_login_gives_acr_attested_and_amr_pop(
    app: FastAPI, session: Session, subject_keys: SubjectKeys, rp: RP, runtime: Runtime
) -> None:
    browser = TestClient(app, base_url=ISSUER)  # nobody logged in yet
    resident = make_resident(runtime, session)
    phone = phone_for(app, session, subject_keys, resident.account_id)
    location, verifier = authorize(browser, rp)
    assert urlsplit(location).path == "/login"
    assert "mode" not in query_of(location)  # no acr asked: the resident may choose

    continued = browser.get(log_in_by_wallet(browser, phone, location), follow_redirects=False)

    assert continued.status_code == 302, continued.text
    claims = id_token_claims(browser, rp, query_of(continued.headers["location"])["code"], verifier)
    assert claims["acr"] == ATTESTED and claims["amr"] == ["pop"]
    assert abs(claims["auth_time"] - time.time()) < 60


def test_acr_values_attested_sends_a_password_session_to_wallet_login(
    client: TestClient, rp: RP, resident: Resident, phone: Wallet
) -> None:
    location, verifier = authorize(client, rp, acr_values=ATTESTED)

    assert urlsplit(location).path == "/login"
    assert query_of(location)["mode"] == "wallet"
    page = client.get(location)
    assert "Voor deze dienst log je in met je wallet-app" in page.text
    continued = client.get(log_in_by_wallet(client, phone, location), follow_redirects=False)
    assert continued.status_code == 302
    callback = query_of(continued.headers["location"])
    assert id_token_claims(client, rp, callback["code"], verifier)["acr"] == ATTESTED


def test_a_fresh_password_login_does_not_satisfy_acr_values_attested(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    location, _ = authorize(client, rp, acr_values=ATTESTED)
    continue_path = query_of(location)["return_to"]
    # the resident's password session began within the second: "fresh", yet not attested

    again = client.get(continue_path, follow_redirects=False)

    assert again.status_code == 302
    assert query_of(again.headers["location"]).get("mode") == "wallet"


def test_essential_acr_claim_forces_wallet_login(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    claims = {"id_token": {"acr": {"essential": True, "values": [ATTESTED]}}}

    location, _ = authorize(client, rp, claims=json.dumps(claims))

    assert urlsplit(location).path == "/login"
    assert query_of(location)["mode"] == "wallet"


def test_essential_acr_that_cannot_be_satisfied_fails_the_request(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    claims = {"id_token": {"acr": {"essential": True, "value": "urn:example:loa:4"}}}

    location, _ = authorize(client, rp, claims=json.dumps(claims))

    assert location.startswith(rp.redirect_uri)
    assert query_of(location)["error"] == "access_denied"


def test_prompt_none_with_acr_attested_and_a_password_session_is_login_required(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    location, _ = authorize(client, rp, acr_values=ATTESTED, prompt="none")

    assert location.startswith(rp.redirect_uri)
    assert query_of(location)["error"] == "login_required"


def test_an_attested_session_satisfies_a_request_for_password_acr(
    app: FastAPI, session: Session, subject_keys: SubjectKeys, rp: RP, runtime: Runtime
) -> None:
    browser = TestClient(app, base_url=ISSUER)
    resident = make_resident(runtime, session)
    phone = phone_for(app, session, subject_keys, resident.account_id)
    started = start(browser)
    phone.present(started.qr_payload)
    complete(browser, started)

    location, verifier = authorize(browser, rp, acr_values=PASSWORD)

    assert location.startswith(rp.redirect_uri), location
    claims = id_token_claims(browser, rp, query_of(location)["code"], verifier)
    assert claims["acr"] == ATTESTED


def test_unknown_acr_values_are_ignored(client: TestClient, rp: RP, resident: Resident) -> None:
    location, _ = authorize(client, rp, acr_values="urn:example:unknown")

    assert location.startswith(rp.redirect_uri)
    assert "code" in query_of(location)


def test_discovery_lists_the_supported_acr_values(client: TestClient) -> None:
    doc = client.get("/.well-known/openid-configuration").json()

    assert doc["acr_values_supported"] == [PASSWORD, ATTESTED]
    assert {"acr", "amr", "auth_time"} <= set(doc["claims_supported"])
