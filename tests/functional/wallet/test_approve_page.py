"""The built-in wallet's approve page: a logged-in resident opens a platform's universal link,
types the pairing code the platform shows, sees exactly what is asked and why, and approves
(consent recorded, a key-bound presentation of only those claims posted through the same
response path as a wallet app) or refuses (`access_denied`). Each guard has an attack that
fails."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.verifier.models import VerifierSession
from consent.ledger import consents_of
from consent.models import ConsentEvent
from identity.accounts.sessions import SESSION_COOKIE, start_browser_session
from tests.conftest import TEST_ISSUER
from tests.functional.wallet.conftest import IssueToWallet
from tests.support.attestations import make_account
from tests.support.oidc import RP, Resident, hidden_fields, make_rp
from tests.support.pages import shows

POSTCODE_VCT = f"{TEST_ISSUER}/vct/postcode"
PURPOSE = "Stemmen over het buurtbudget"


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session, name="Buurtplatform Oost")


def start(
    client: TestClient, rp: RP, claims: list[str] | None = None, **body: Any
) -> dict[str, Any]:
    query = {
        "credentials": [
            {
                "id": "residence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [POSTCODE_VCT]},
                "claims": [{"path": [c]} for c in (claims or ["postcode_area"])],
            }
        ]
    }
    response = client.post(
        "/verifier/sessions",
        json={"dcql_query": query, "purpose": PURPOSE, **body},
        auth=rp.basic(),
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def status(client: TestClient, rp: RP, created: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/verifier/sessions/{created['session_id']}", auth=rp.basic())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def open_link(client: TestClient, created: dict[str, Any]) -> str:
    response = client.get(
        created["universal_link"].removeprefix(TEST_ISSUER), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    page: str = response.headers["location"]
    assert page == f"/wallet/sessions/{created['session_id']}"
    return page


def post(client: TestClient, page: str, action: str, **fields: str) -> Any:
    form = hidden_fields(client.get(page).text) or hidden_fields(client.get("/account").text)
    return client.post(
        f"{page}/{action}",
        data={"csrf_token": form.get("csrf_token", ""), **fields},
        follow_redirects=False,
    )


def pair(client: TestClient, rp: RP, created: dict[str, Any], page: str) -> None:
    code = status(client, rp, created)["pairing_code"]
    response = post(client, page, "pair", code=code)
    assert response.status_code == 303 and response.headers["location"] == page


def result_of(client: TestClient, rp: RP, created: dict[str, Any]) -> dict[str, Any]:
    body = status(client, rp, created)
    assert body["status"] == "done", body
    claims: dict[str, Any] = jwt.decode(body["result"], options={"verify_signature": False})
    return claims


def test_resident_pairs_approves_and_the_platform_reads_postcode_area_only(
    client: TestClient, session: Session, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    to_wallet("postcode")
    created = start(client, rp)
    assert "pairing_code" not in status(client, rp, created)  # nobody opened it yet

    page = open_link(client, created)
    body = status(client, rp, created)
    assert body["status"] == "scanned" and len(body["pairing_code"]) == 4
    assert body["pairing_code"].isdigit()
    pairing_page = client.get(page)
    assert 'id="pair-form"' in pairing_page.text and "Buurtplatform Oost" in pairing_page.text
    assert not shows(pairing_page.text, body["pairing_code"])  # the phone never shows it

    pair(client, rp, created, page)
    approve_page = client.get(page)
    assert approve_page.status_code == 200
    assert 'data-claim="postcode_area"' in approve_page.text
    assert approve_page.text.count("data-claim=") == 1
    assert PURPOSE in approve_page.text and "Buurtplatform Oost" in approve_page.text
    # the resident sees exactly what would be shared, as Yivi shows it: the area, not more
    assert '<strong class="shared-value">1087</strong>' in approve_page.text
    assert "1087 AB" not in approve_page.text and "Amsterdam" not in approve_page.text

    response = post(client, page, "decision", decision="allow")
    assert response.status_code == 200, response.text

    [entry] = result_of(client, rp, created)["credentials"]
    assert entry["claims"] == {"postcode_area": "1087"}
    assert entry["verification"]["key_binding"] == "valid"
    [state] = consents_of(session, resident.account_id, rp.client_id)[rp.client_id]
    assert state.record.claim == "postcode_area" and state.state == "given"
    assert state.record.purpose_description == PURPOSE
    assert state.events[-1].method == "wallet"


def test_a_wrong_pairing_code_is_refused_and_three_cancel_the_session(
    client: TestClient, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    to_wallet("postcode")
    created = start(client, rp)
    page = open_link(client, created)
    right = status(client, rp, created)["pairing_code"]
    wrong = "0000" if right != "0000" else "1111"

    first = post(client, page, "pair", code=wrong)
    assert first.status_code == 400 and 'role="alert"' in first.text
    assert post(client, page, "decision", decision="allow").headers["location"] == page
    assert status(client, rp, created)["status"] == "scanned"  # nothing presented
    post(client, page, "pair", code=wrong)
    third = post(client, page, "pair", code=wrong)

    assert third.status_code == 410
    assert status(client, rp, created)["status"] == "cancelled"
    assert post(client, page, "pair", code=right).status_code == 410


def test_refusal_answers_access_denied_and_records_the_refusal(
    client: TestClient, session: Session, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    to_wallet("postcode")
    created = start(client, rp)
    page = open_link(client, created)
    pair(client, rp, created, page)

    response = post(client, page, "decision", decision="refuse")

    assert response.status_code == 200
    assert status(client, rp, created) == {"status": "cancelled"}
    row = session.get(VerifierSession, created["session_id"])
    session.refresh(row)
    assert row is not None and row.end_reason == "wallet_access_denied"
    [state] = consents_of(session, resident.account_id, rp.client_id)[rp.client_id]
    assert state.state == "refused"


def test_a_resident_without_a_matching_credential_is_told_so(
    client: TestClient, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    to_wallet("age")
    created = start(client, rp)
    page = open_link(client, created)
    pair(client, rp, created, page)

    shown = client.get(page)

    assert 'id="no-match"' in shown.text and 'data-claim="postcode_area"' in shown.text
    # nothing to share: the one button ends the request, and says so
    assert ">Verzoek afsluiten</button>" in shown.text and "Niet delen" not in shown.text
    assert post(client, page, "decision", decision="allow").headers["location"] == page
    assert status(client, rp, created)["status"] == "scanned"


def test_the_decision_needs_the_csrf_token(
    client: TestClient, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    to_wallet("postcode")
    created = start(client, rp)
    page = open_link(client, created)
    pair(client, rp, created, page)
    response = client.post(f"{page}/decision", data={"decision": "allow", "csrf_token": "x"})
    assert response.status_code == 403
    assert status(client, rp, created)["status"] == "scanned"


def test_another_account_cannot_take_over_an_opened_session(
    client: TestClient,
    runtime: Any,
    session: Session,
    rp: RP,
    resident: Resident,
    to_wallet: IssueToWallet,
) -> None:
    to_wallet("postcode")
    created = start(client, rp)
    page = open_link(client, created)

    intruder = make_account(session, runtime.subject_keys)
    to_wallet("postcode", account_id=intruder)
    started = start_browser_session(session, intruder, ttl=runtime.accounts.session_ttl)
    session.commit()
    client.cookies.set(SESSION_COOKIE, started.sid)

    response = client.get(
        created["universal_link"].removeprefix(TEST_ISSUER), follow_redirects=False
    )
    assert response.status_code == 410
    assert client.get(page).status_code == 410
    assert post(client, page, "decision", decision="allow").status_code == 410


def test_the_wallet_page_needs_a_login(client: TestClient, rp: RP) -> None:
    created = start(client, rp)
    response = client.get(f"/wallet/sessions/{created['session_id']}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?")
    assert "pairing_code" not in status(client, rp, created)


def test_approval_presents_through_the_response_uri_with_key_binding_to_the_session(
    client: TestClient, session: Session, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    """Two claims asked, both disclosed, both consented to; the consent events are `wallet`."""
    to_wallet("postcode")
    created = start(client, rp, claims=["postcode_area", "municipality"])
    page = open_link(client, created)
    pair(client, rp, created, page)
    assert post(client, page, "decision", decision="allow").status_code == 200
    [entry] = result_of(client, rp, created)["credentials"]
    assert set(entry["claims"]) == {"postcode_area", "municipality"}
    methods = session.scalars(select(ConsentEvent.method)).all()
    assert methods and set(methods) == {"wallet"}


def test_the_pages_speak_dutch_by_default_and_english_on_request(
    client: TestClient, rp: RP, resident: Resident, to_wallet: IssueToWallet
) -> None:
    to_wallet("postcode")
    created = start(client, rp)
    page = open_link(client, created)
    assert "Koppelcode" in client.get(page).text
    assert "Pairing code" in client.get(f"{page}?lang=en").text
    pair(client, rp, created, page)
    english = client.get(f"{page}?lang=en").text
    assert "Your postcode area" not in english  # labels come from the credential type
    assert "Postcode area" in english and ">Share<" in english
    assert ">Delen<" in client.get(f"{page}?lang=nl").text
