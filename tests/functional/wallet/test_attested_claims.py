"""Attested claims in OpenID Connect come only from the resident's valid, unrevoked built-in
wallet credentials, and only under consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.models import IssuedCredential
from attestations.statuslist import revoke_credential
from attestations.wallet import attested_claims
from consent.ledger import PRESENTATION_PURPOSE_PREFIX, active_claims, record_decision
from core.db import utcnow
from service.runtime import Runtime
from tests.functional.wallet.conftest import IssueToWallet
from tests.support.oidc import RP, Resident, code_flow, exchange, make_rp

ATTESTED = ["postcode_area", "municipality", "age_over_18", "real_person"]
SCOPE = "openid residence age real_person"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


def userinfo(client: TestClient, rp: RP, allow: list[str]) -> dict[str, Any]:
    query, verifier, _ = code_flow(client, rp, allow=allow, scope=SCOPE)
    tokens = exchange(client, rp, query["code"], verifier).json()
    response = client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_attested_claims_are_released_with_consent(
    client: TestClient, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    to_wallet("postcode")
    to_wallet("age")
    to_wallet("real_person")
    body = userinfo(client, rp, ATTESTED)
    assert body["postcode_area"] == "1087"
    assert body["municipality"] == {"code": "GM0363", "name": "Amsterdam"}
    assert body["age_over_18"] is True and body["real_person"] is True


def test_attested_claims_are_not_released_without_consent(
    client: TestClient, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    to_wallet("postcode")
    body = userinfo(client, rp, ["age_over_18"])
    assert not set(ATTESTED) & set(body)


def test_a_revoked_credential_is_no_source(
    client: TestClient, rp: RP, session: Session, resident: Resident, to_wallet: IssueToWallet
) -> None:
    [row] = to_wallet("postcode")
    revoke_credential(session, row.issued_credential_id, "operator", "operator:cli")
    session.commit()
    body = userinfo(client, rp, ATTESTED)
    assert "postcode_area" not in body and "municipality" not in body


def test_an_expired_credential_is_no_source(
    client: TestClient,
    runtime: Runtime,
    rp: RP,
    session: Session,
    resident: Resident,
    to_wallet: IssueToWallet,
) -> None:
    [old] = to_wallet("postcode")
    to_wallet("age")
    # a year later the credential's validity is over (its `exp`, kept as expires_at)
    issued = session.get(IssuedCredential, old.issued_credential_id)
    assert issued is not None
    later = issued.expires_at + dt.timedelta(seconds=1)
    assert set(attested_claims(session, runtime.subject_keys, resident.account_id, later)) == set()
    issued.expires_at = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    assert set(attested_claims(session, runtime.subject_keys, resident.account_id)) == {
        "age_over_18"
    }
    body = userinfo(client, rp, ATTESTED)
    assert "postcode_area" not in body and body["age_over_18"] is True


def test_claims_come_only_from_the_residents_own_wallet(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    resident: Resident,
    to_wallet: IssueToWallet,
) -> None:
    from tests.support.attestations import make_account

    other = make_account(session, runtime.subject_keys)
    to_wallet("postcode", account_id=other)
    assert attested_claims(session, runtime.subject_keys, resident.account_id) == {}


def test_consent_to_a_wallet_presentation_is_not_consent_for_openid_connect(
    runtime: Runtime, rp: RP, session: Session, resident: Resident
) -> None:
    record_decision(
        session,
        account_id=resident.account_id,
        subject_ref=runtime.subject_keys.reference(session, resident.account_id),
        client_id=rp.client_id,
        given=["postcode_area"],
        refused=[],
        purpose=PRESENTATION_PURPOSE_PREFIX + "abc",
        method="wallet",
    )
    assert active_claims(session, resident.account_id, rp.client_id) == set()
    assert active_claims(
        session, resident.account_id, rp.client_id, PRESENTATION_PURPOSE_PREFIX + "abc"
    ) == {"postcode_area"}
