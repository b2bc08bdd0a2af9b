"""Access and portability (GDPR Art. 15/20): the resident downloads everything Kluis holds
about them as JSON — account, attestation metadata, consents with events, disclosures."""

from __future__ import annotations

import jwt
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.runtime import Runtime
from tests.support.oidc import code_flow, exchange, make_resident, make_rp


def test_export_holds_account_consents_and_disclosures(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    rp = make_rp(session)
    make_resident(runtime, session, client, email="jan@example.org", name="Jan Smit")
    query, verifier, _ = code_flow(client, rp, allow=["email"])
    tokens = exchange(client, rp, query["code"], verifier).json()
    client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})

    response = client.get("/account/export")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["account"]["email"] == "jan@example.org" and data["account"]["name"] == "Jan Smit"
    assert data["attestations"] == {"offers": [], "issued": [], "built_in_wallet": []}
    (platform,) = data["consents"]
    assert platform["platform"]["client_id"] == rp.client_id
    sub = jwt.decode(tokens["id_token"], options={"verify_signature": False})["sub"]
    assert platform["your_pseudonym_there"] == sub
    states = {r["claim"]: r["state"] for r in platform["records"]}
    assert states["email"] == "given" and states["name"] == "refused"
    email_record = next(r for r in platform["records"] if r["claim"] == "email")
    assert email_record["resident_pseudonym"] == sub
    assert email_record["recipient"] == rp.client_id
    assert email_record["controller"] == runtime.settings.issuer
    assert email_record["purpose_iri"] == "https://w3id.org/dpv#ServiceProvision"
    assert email_record["withdrawal_method"] == f"{runtime.settings.issuer}/account/consents"
    assert [e["event"] for e in email_record["events"]] == ["given"]
    channels = {(d["platform"], d["channel"]) for d in data["disclosures"]}
    assert (rp.client_id, "userinfo") in channels
    assert all("email" in d["claims"] for d in data["disclosures"])


def test_export_requires_login(client: TestClient) -> None:
    response = client.get("/account/export", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?return_to=/account/export"
