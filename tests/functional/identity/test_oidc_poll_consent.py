"""Consent to the OIDC `poll_pseudonym` claim is per poll: recorded under the purpose
`poll:<poll id>`, and only that record releases that poll's pseudonym. A new poll shows the
consent screen again (`consent_required` with `prompt=none`); withdrawal stops the release."""

from __future__ import annotations

import json
import re
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.ledger import active_claims, poll_purpose, record_decision, withdraw_consent
from consent.models import ConsentRecord
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
)

POLL_A, POLL_B = "buurtbudget-2027", "speeltuin-2027"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, client)


def ask(poll: str, **extra: str) -> dict[str, str]:
    claims = {"id_token": {"poll_pseudonym": {"value": poll}}}
    return {"scope": "openid", "claims": json.dumps(claims), **extra}


def consent_to(client: TestClient, rp: RP, poll: str, allow: bool = True) -> dict[str, Any]:
    """A full code flow for `poll` (answering the consent screen): the ID token's claims."""
    query, verifier, _ = code_flow(
        client, rp, allow=["poll_pseudonym"] if allow else [], **ask(poll)
    )
    return id_claims(exchange(client, rp, query["code"], verifier).json())


def silent(client: TestClient, rp: RP, poll: str) -> dict[str, str]:
    """`prompt=none` for `poll`: the redirect's query (a code or an error)."""
    _, challenge = pkce_pair()
    params = auth_params(rp, challenge, **ask(poll, prompt="none"))
    response = client.get("/authorize", params=params, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(rp.redirect_uri), location
    return query_of(location)


def id_claims(body: dict[str, Any]) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(body["id_token"], options={"verify_signature": False})
    return claims


def test_consent_is_recorded_for_the_poll_not_for_the_claim_in_general(
    client: TestClient, rp: RP, resident: Resident, session: Session
) -> None:
    consent_to(client, rp, POLL_A)

    purposes = set(
        session.scalars(
            select(ConsentRecord.purpose).where(ConsentRecord.claim == "poll_pseudonym")
        )
    )
    assert purposes == {poll_purpose(POLL_A)}
    assert "poll_pseudonym" in active_claims(
        session, resident.account_id, rp.client_id, poll_purpose(POLL_A)
    )
    assert "poll_pseudonym" not in active_claims(session, resident.account_id, rp.client_id)


def test_a_consented_poll_is_released_again_without_a_consent_screen(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    first = consent_to(client, rp, POLL_A)["poll_pseudonym"]
    verifier, challenge = pkce_pair()
    params = auth_params(rp, challenge, **ask(POLL_A, prompt="none"))

    response = client.get("/authorize", params=params, follow_redirects=False)

    query = query_of(response.headers["location"])
    assert "code" in query, query
    again = id_claims(exchange(client, rp, query["code"], verifier).json())
    assert again["poll_pseudonym"] == first


def test_consent_for_poll_a_does_not_release_poll_bs_pseudonym_with_prompt_none(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    consent_to(client, rp, POLL_A)

    query = silent(client, rp, POLL_B)

    assert query["error"] == "consent_required"
    assert "code" not in query


def test_a_new_poll_shows_the_consent_screen_naming_that_poll(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    consent_to(client, rp, POLL_A)
    _, challenge = pkce_pair()
    params = auth_params(rp, challenge, **ask(POLL_B))

    response = client.get("/authorize", params=params, follow_redirects=False)

    assert response.headers["location"].startswith("/authorize/continue/")
    page = client.get(response.headers["location"])
    assert f"<code>{POLL_B}</code>" in page.text
    # honest about what the platform learns: the ID token carries the pairwise `sub` too
    assert "weet het platform wel dat de stem van jouw account komt" in page.text
    assert "niet naar jou te herleiden" not in page.text


def test_refusing_poll_b_keeps_it_out_while_poll_a_is_still_released(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    a = consent_to(client, rp, POLL_A)["poll_pseudonym"]

    refused = consent_to(client, rp, POLL_B, allow=False)
    again = consent_to(client, rp, POLL_A)

    assert "poll_pseudonym" not in refused
    assert again["poll_pseudonym"] == a


def test_consent_to_the_claim_without_a_poll_releases_no_poll(
    client: TestClient, runtime: Runtime, rp: RP, resident: Resident, session: Session
) -> None:
    """A record of the default purpose (as written before consent was per poll) is not
    consent to any poll."""
    record_decision(
        session,
        account_id=resident.account_id,
        subject_ref=runtime.subject_keys.reference(session, resident.account_id),
        client_id=rp.client_id,
        given=["poll_pseudonym"],
        refused=[],
    )
    session.commit()

    assert silent(client, rp, POLL_A)["error"] == "consent_required"


def test_withdrawing_stops_the_release_and_asks_again(
    client: TestClient, runtime: Runtime, rp: RP, resident: Resident, session: Session
) -> None:
    claims = json.dumps({"userinfo": {"poll_pseudonym": {"value": POLL_A}}})
    query, verifier, _ = code_flow(
        client, rp, allow=["poll_pseudonym"], scope="openid", claims=claims
    )
    access = exchange(client, rp, query["code"], verifier).json()["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    assert "poll_pseudonym" in client.get("/userinfo", headers=bearer).json()

    withdrawn = withdraw_consent(
        session,
        account_id=resident.account_id,
        subject_ref=runtime.subject_keys.reference(session, resident.account_id),
        client_id=rp.client_id,
        claims=["poll_pseudonym"],
        actor="resident",
        method="test",
    )
    session.commit()

    assert withdrawn == ["poll_pseudonym"]
    assert "poll_pseudonym" not in client.get("/userinfo", headers=bearer).json()
    assert silent(client, rp, POLL_A)["error"] == "consent_required"


def test_the_consents_page_names_the_poll_and_withdraws_it(
    client: TestClient, rp: RP, resident: Resident, session: Session
) -> None:
    consent_to(client, rp, POLL_A)
    page = client.get("/account/consents")
    assert f"Een schuilnaam voor de stemming {POLL_A}" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token

    response = client.post(
        "/account/consents/withdraw",
        data={"csrf_token": token.group(1), "client_id": rp.client_id, "claim": "poll_pseudonym"},
        follow_redirects=False,
    )

    assert response.status_code == 303
    after = client.get("/account/consents").text
    assert 'data-claim="poll_pseudonym" data-state="withdrawn"' in after
    assert silent(client, rp, POLL_A)["error"] == "consent_required"
