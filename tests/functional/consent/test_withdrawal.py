"""Consent withdrawal: a new `withdrawn` event, effective at the next UserInfo call, audited,
and told to the platform as a CAEP token-claims-change SET pushed through the outbox."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.outbox import Delivery
from audit.models import AuditEntry
from consent.ledger import WITHDRAWN, active_claims, withdraw_consent
from consent.models import ConsentEvent
from rights.signals import DELIVERY_KIND, TOKEN_CLAIMS_CHANGE, ConsentSignals
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.oidc import RP, Resident, code_flow, exchange, make_resident, make_rp

EVENTS_URI = "https://buurt.example.nl/events"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session, events_uri=EVENTS_URI)


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, client)


@pytest.fixture
def tokens(client: TestClient, rp: RP, resident: Resident) -> dict[str, Any]:
    query, verifier, _ = code_flow(client, rp, allow=["email", "name"])
    body: dict[str, Any] = exchange(client, rp, query["code"], verifier).json()
    return body


def userinfo(client: TestClient, access_token: str) -> dict[str, Any]:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def verify_set(client: TestClient, token: str, audience: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "secevent+jwt"
    jwks = jwt.PyJWKSet.from_dict(client.get("/jwks.json").json())
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["RS256", "ES256"],
        audience=audience,
        issuer=TEST_ISSUER,
        options={"require": ["iss", "aud", "iat", "jti", "events"]},
    )
    assert "exp" not in claims and "sub" not in claims  # RFC 8417 §2.2, SSF: sub_id only
    return claims


def withdraw(
    runtime: Runtime, session: Session, resident: Resident, rp: RP, claims: Any
) -> list[str]:
    names = withdraw_consent(
        session,
        account_id=resident.account_id,
        subject_ref=runtime.subject_keys.reference(session, resident.account_id),
        client_id=rp.client_id,
        claims=claims,
        actor="resident",
        method="test",
        listener=ConsentSignals.of(runtime.oidc),
    )
    session.commit()
    return names


def test_withdrawn_field_is_missing_from_the_next_userinfo(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    rp: RP,
    resident: Resident,
    tokens: dict[str, Any],
) -> None:
    before = userinfo(client, tokens["access_token"])
    assert before["email"] == "bewoner@example.org" and before["name"] == "Klaas Vaessen"
    assert withdraw(runtime, session, resident, rp, ["email"]) == ["email"]
    after = userinfo(client, tokens["access_token"])
    assert "email" not in after and after["name"] == "Klaas Vaessen"
    assert after["sub"] == before["sub"]


def test_withdrawal_is_a_new_event_and_is_audited_without_personal_data(
    runtime: Runtime, session: Session, rp: RP, resident: Resident, tokens: dict[str, Any]
) -> None:
    assert withdraw(runtime, session, resident, rp, None) == ["email", "name"]
    assert active_claims(session, resident.account_id, rp.client_id) == set()
    events = list(session.scalars(select(ConsentEvent.event).order_by(ConsentEvent.id)))
    assert events.count("given") == 2 and events.count(WITHDRAWN) == 2  # nothing edited
    entry = session.scalars(select(AuditEntry).where(AuditEntry.event == "consent.withdrawn")).one()
    assert '"claims":["email","name"]' in entry.entry and "example.org" not in entry.entry
    # withdrawing again changes nothing and tells nobody twice
    assert withdraw(runtime, session, resident, rp, None) == []
    assert len(list(session.scalars(select(Delivery).where(Delivery.kind == DELIVERY_KIND)))) == 1


def test_platform_receives_a_verifiable_token_claims_change_set_with_a_stable_jti(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    rp: RP,
    resident: Resident,
    tokens: dict[str, Any],
) -> None:
    id_claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    withdraw(runtime, session, resident, rp, ["name"])
    received: list[httpx.Request] = []
    answers = iter([500, 202])

    def platform(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(next(answers))

    with httpx.Client(transport=httpx.MockTransport(platform)) as http:
        assert [r.delivered for r in runtime.outbox.deliver_due(http)] == [False]
        row = session.scalars(select(Delivery).where(Delivery.kind == DELIVERY_KIND)).one()
        session.refresh(row)
        row.next_attempt_at = row.created_at  # the backoff has passed
        session.commit()
        assert [r.delivered for r in runtime.outbox.deliver_due(http)] == [True]
        assert runtime.outbox.deliver_due(http) == []

    assert [str(r.url) for r in received] == [EVENTS_URI, EVENTS_URI]
    assert all(r.headers["content-type"] == "application/secevent+jwt" for r in received)
    sets = [verify_set(client, r.content.decode(), rp.client_id) for r in received]
    assert sets[0]["jti"] == sets[1]["jti"]
    claims = sets[1]
    assert claims["sub_id"] == {"format": "iss_sub", "iss": TEST_ISSUER, "sub": id_claims["sub"]}
    event = claims["events"][TOKEN_CLAIMS_CHANGE]
    assert event["claims"] == {"name": None} and isinstance(event["event_timestamp"], int)


def test_platform_without_events_uri_gets_no_delivery(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    plain = make_rp(session, name="Zonder events")
    code_flow(client, plain, allow=["email"])
    assert withdraw(runtime, session, resident, plain, None) == ["email"]
    assert session.scalars(select(Delivery).where(Delivery.kind == DELIVERY_KIND)).first() is None


def test_withdrawing_offline_access_revokes_refresh_tokens_at_once(
    client: TestClient, runtime: Runtime, session: Session, rp: RP, resident: Resident
) -> None:
    query, verifier, _ = code_flow(
        client, rp, allow=["offline_access"], scope="openid offline_access", prompt="consent"
    )
    body = exchange(client, rp, query["code"], verifier).json()
    assert "offline_access" in body["scope"].split()
    assert withdraw(runtime, session, resident, rp, ["offline_access"]) == ["offline_access"]
    refreshed = client.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=rp.basic(),
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
