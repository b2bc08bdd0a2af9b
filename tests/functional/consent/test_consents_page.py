"""The resident's consents page: per platform and field, one-click withdrawal (POST with CSRF),
Dutch by default and English, and signed consent receipts verifiable against /jwks.json."""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.outbox import Delivery
from consent.ledger import active_claims
from rights.signals import DELIVERY_KIND
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.oidc import RP, Resident, code_flow, make_resident, make_rp

PAGE = "/account/consents"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session, events_uri="https://buurt.example.nl/events")


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session, rp: RP) -> Resident:
    resident = make_resident(runtime, session, client)
    code_flow(client, rp, allow=["email"])  # name refused (unticked)
    return resident


def csrf(client: TestClient) -> str:
    match = _CSRF.search(client.get(PAGE).text)
    assert match
    return match.group(1)


def test_page_requires_login(client: TestClient) -> None:
    response = client.get(PAGE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?return_to=/account/consents"


def test_page_lists_each_field_with_state_in_dutch_and_english(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    page = client.get(PAGE)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Mijn toestemmingen" in page.text and "Buurtplatform" in page.text
    assert re.search(r'data-claim="email" data-state="given"', page.text)
    assert re.search(r'data-claim="name" data-state="refused"', page.text)
    assert "Toegestaan" in page.text and "Geweigerd" in page.text
    assert "<script" not in page.text
    assert "bewoner@example.org" not in page.text  # states, never values
    english = client.get(PAGE, params={"lang": "en"})
    assert "My consents" in english.text and "Withdraw everything for Buurtplatform" in english.text


def test_one_click_withdrawal_of_one_field_and_of_everything(
    client: TestClient, session: Session, rp: RP, resident: Resident
) -> None:
    token = csrf(client)
    response = client.post(
        PAGE + "/withdraw",
        data={"client_id": rp.client_id, "claim": "email", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == PAGE + "?status=withdrawn"
    assert active_claims(session, resident.account_id, rp.client_id) == set()
    page = client.get(response.headers["location"])
    assert 'data-claim="email" data-state="withdrawn"' in page.text and 'role="status"' in page.text
    again = client.post(
        PAGE + "/withdraw",
        data={"client_id": rp.client_id, "csrf_token": token},
        follow_redirects=False,
    )
    assert again.headers["location"] == PAGE + "?status=nothing"
    deliveries = session.scalars(select(Delivery).where(Delivery.kind == DELIVERY_KIND)).all()
    assert len(deliveries) == 1


def test_withdrawal_without_csrf_is_refused_and_changes_nothing(
    client: TestClient, session: Session, rp: RP, resident: Resident
) -> None:
    response = client.post(
        PAGE + "/withdraw",
        data={"client_id": rp.client_id, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert active_claims(session, resident.account_id, rp.client_id) == {"email"}


def test_another_residents_withdrawal_never_touches_this_resident(
    client: TestClient, runtime: Runtime, session: Session, rp: RP, resident: Resident
) -> None:
    with TestClient(client.app, base_url=TEST_ISSUER) as other:
        make_resident(runtime, session, other, email="ander@example.org", name=None)
        match = _CSRF.search(other.get("/login").text)  # no consents: no forms on the page
        assert match
        other.post(
            PAGE + "/withdraw", data={"client_id": rp.client_id, "csrf_token": match.group(1)}
        )
    assert active_claims(session, resident.account_id, rp.client_id) == {"email"}


def test_receipt_is_signed_es256_and_verifies_against_jwks(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    response = client.get(f"{PAGE}/receipt/{rp.client_id}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/jwt"
    assert "attachment" in response.headers["content-disposition"]
    token = response.text
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    jwks = jwt.PyJWKSet.from_dict(client.get("/jwks.json").json())
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    receipt: dict[str, Any] = jwt.decode(
        token,
        key.key,
        algorithms=["ES256"],
        issuer=TEST_ISSUER,
        options={"require": ["iss", "iat", "jti"]},
    )
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["consentReceiptID"] == receipt["jti"]
    assert receipt["piiControllers"][0]["url"] == TEST_ISSUER
    assert receipt["recipient"]["clientId"] == rp.client_id
    (service,) = receipt["services"]
    (purpose,) = service["purposes"]
    assert purpose["piiCategory"] == ["email"] and "6(1)(a)" in purpose["legalBasis"]
    states = {r["piiCategory"]: r["state"] for r in receipt["consentRecords"]}
    assert states["email"] == "given" and states["name"] == "refused"
    assert all(r["events"] for r in receipt["consentRecords"])
    assert all(
        r["resident_pseudonym"] == receipt["piiPrincipalId"]
        and r["recipient"] == rp.client_id
        and r["purpose_iri"] == "https://w3id.org/dpv#ServiceProvision"
        and r["withdrawal_method"] == f"{TEST_ISSUER}/account/consents"
        for r in receipt["consentRecords"]
    )
    assert purpose["purposeCategory"] == ["https://w3id.org/dpv#ServiceProvision"]
    assert "bewoner@example.org" not in str(receipt) and "Klaas" not in str(receipt)


def test_receipt_principal_is_the_pairwise_sub(
    client: TestClient, runtime: Runtime, session: Session, rp: RP, resident: Resident
) -> None:
    token = client.get(f"{PAGE}/receipt/{rp.client_id}").text
    receipt = jwt.decode(token, options={"verify_signature": False})
    expected = runtime.oidc.subject_ids.for_client(rp.client, resident.account_id)
    assert receipt["piiPrincipalId"] == expected


def test_receipt_for_unknown_platform_or_without_login_is_refused(
    client: TestClient, rp: RP, resident: Resident, session: Session
) -> None:
    assert client.get(f"{PAGE}/receipt/kc_unknown").status_code == 404
    other = make_rp(session, name="Nooit gebruikt")
    assert client.get(f"{PAGE}/receipt/{other.client_id}").status_code == 404
    client.cookies.clear()
    assert client.get(f"{PAGE}/receipt/{rp.client_id}", follow_redirects=False).status_code == 303


def test_each_row_says_what_the_platform_said_it_was_for_never_a_key(
    client: TestClient, session: Session, rp: RP, resident: Resident
) -> None:
    from attestations.wallet.approve import _purpose_id
    from consent.ledger import record_decision

    # a presentation by the built-in wallet to the same platform, for its stated purpose
    record_decision(
        session,
        account_id=resident.account_id,
        subject_ref=None,
        client_id=rp.client_id,
        given=["postcode_area"],
        refused=[],
        purpose=_purpose_id("Stemmen over het buurtbudget"),
        purpose_description="Stemmen over het buurtbudget",
        method="kluis-wallet",
    )
    session.commit()
    page = client.get(PAGE).text
    rows = dict(re.findall(r'data-claim="([^"]+)".*?data-label="Doel">([^<]*)<', page, re.S))
    assert rows["email"] == "Om je aan te melden bij het buurtplatform"  # the client's --purpose
    assert rows["postcode_area"] == "Stemmen over het buurtbudget"
    assert "consent.purpose" not in page
