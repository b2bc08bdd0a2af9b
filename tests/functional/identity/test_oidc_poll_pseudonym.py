"""The OIDC `poll_pseudonym` claim: asked for by name with the poll as its value, released
only with consent, stable per resident and poll, different across polls and platforms, and
never equal to the verifier's (anonymous QR) pseudonym for the same resident and poll."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from identity.oidc.pseudonyms import (
    oidc_poll_pseudonym,
    poll_pseudonym_key,
    resident_poll_pseudonym,
)
from service.runtime import Runtime
from tests.conftest import TEST_SECRET
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
)

POLL = "buurtbudget-2027"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, client)


def ask(poll: Any, where: str = "id_token") -> dict[str, str]:
    return {"scope": "openid", "claims": json.dumps({where: {"poll_pseudonym": {"value": poll}}})}


def tokens(client: TestClient, rp: RP, poll: str, allow: bool = True) -> dict[str, Any]:
    query, verifier, _ = code_flow(
        client, rp, allow=["poll_pseudonym"] if allow else [], **ask(poll)
    )
    response = exchange(client, rp, query["code"], verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def id_claims(body: dict[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(body["id_token"], options={"verify_signature": False})
    return claims


def test_the_id_token_carries_the_residents_poll_pseudonym(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    claims = id_claims(tokens(client, rp, POLL))

    key = poll_pseudonym_key(TEST_SECRET.encode())
    sector = rp.client.sector_identifier
    assert claims["poll_pseudonym"] == oidc_poll_pseudonym(key, sector, POLL, resident.account_id)
    # the verifier's (anonymous) value for this resident and poll never comes out here
    assert claims["poll_pseudonym"] != resident_poll_pseudonym(
        key, sector, POLL, resident.account_id
    )


def test_same_resident_and_poll_give_the_same_pseudonym_another_poll_another(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    first = id_claims(tokens(client, rp, POLL))["poll_pseudonym"]
    again = id_claims(tokens(client, rp, POLL))["poll_pseudonym"]
    other = id_claims(tokens(client, rp, "speeltuin-2027"))["poll_pseudonym"]

    assert first == again
    assert first != other


def test_another_platform_gets_another_pseudonym_for_the_same_poll(
    client: TestClient, rp: RP, resident: Resident, session: Session
) -> None:
    other_rp = make_rp(session, "Stemplatform", redirect_uris=["https://stem.example.nl/cb"])
    assert other_rp.client.sector_identifier != rp.client.sector_identifier

    ours = id_claims(tokens(client, rp, POLL))["poll_pseudonym"]
    theirs = id_claims(tokens(client, other_rp, POLL))["poll_pseudonym"]

    assert ours != theirs


def test_without_consent_no_pseudonym_leaves(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    claims = id_claims(tokens(client, rp, POLL, allow=False))

    assert "poll_pseudonym" not in claims


def test_the_consent_screen_says_what_it_is_and_for_which_poll(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    _, challenge = pkce_pair()
    response = client.get(
        "/authorize", params=auth_params(rp, challenge, **ask(POLL)), follow_redirects=False
    )
    page = client.get(response.headers["location"])

    assert "Een schuilnaam voor deze stemming" in page.text
    assert f"<code>{POLL}</code>" in page.text


def test_userinfo_carries_it_when_asked_there(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    query, verifier, _ = code_flow(client, rp, allow=["poll_pseudonym"], **ask(POLL, "userinfo"))
    access = exchange(client, rp, query["code"], verifier).json()["access_token"]

    info = client.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).json()

    assert info["poll_pseudonym"] == id_claims(tokens(client, rp, POLL))["poll_pseudonym"]


@pytest.mark.parametrize("poll", ["met spatie", "x" * 129, None, 7, "caf\u00e9"])
def test_a_bad_poll_id_is_an_invalid_request(
    client: TestClient, rp: RP, resident: Resident, poll: Any
) -> None:
    _, challenge = pkce_pair()
    response = client.get(
        "/authorize", params=auth_params(rp, challenge, **ask(poll)), follow_redirects=False
    )

    assert response.status_code == 302
    assert query_of(response.headers["location"])["error"] == "invalid_request"


def test_a_request_naming_two_polls_is_an_invalid_request(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    claims = {
        "id_token": {"poll_pseudonym": {"value": "a"}},
        "userinfo": {"poll_pseudonym": {"value": "b"}},
    }
    _, challenge = pkce_pair()
    params = auth_params(rp, challenge, scope="openid", claims=json.dumps(claims))

    response = client.get("/authorize", params=params, follow_redirects=False)

    assert query_of(response.headers["location"])["error"] == "invalid_request"


def test_discovery_lists_the_claim(client: TestClient) -> None:
    doc = client.get("/.well-known/openid-configuration").json()
    assert "poll_pseudonym" in doc["claims_supported"]
