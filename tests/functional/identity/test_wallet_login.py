"""Login by QR: the desktop browser starts a login, the "phone" (the spec-only test wallet,
its own HTTP client) presents a Kluis credential through OpenID4VP, and the desktop browser is
logged in to the account the credential was issued to. Every check has an attack that fails."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.models import IssuedCredential
from attestations.statuslist import revoke_credential
from attestations.verifier.qr_login import WALLET_LOGIN_COOKIE
from audit.models import AuditEntry
from core.db import utcnow
from identity.accounts.models import Account, BrowserSessionRecord
from identity.accounts.sessions import SESSION_COOKIE
from keys import SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import make_account
from tests.support.wallet import Wallet
from tests.support.wallet_login import QR, complete, events, phone_for, start


@pytest.fixture
def account(session: Session, subject_keys: SubjectKeys) -> str:
    account_id = make_account(session, subject_keys)
    session.commit()
    return account_id


@pytest.fixture
def phone(app: FastAPI, session: Session, subject_keys: SubjectKeys, account: str) -> Wallet:
    """A wallet on another device holding a `real_person` credential of `account`."""
    return phone_for(app, session, subject_keys, account)


# --- the happy path --------------------------------------------------------------------------


def test_phone_presents_and_the_desktop_browser_is_logged_in_with_acr_attested(
    client: TestClient, phone: Wallet, session: Session, account: str
) -> None:
    started = start(client)
    assert QR.search(started.page), "the page shows the QR code"
    assert client.get(QR.search(started.page).group(1)).status_code == 200  # type: ignore[union-attr]

    answer = phone.present(started.qr_payload)

    assert answer.status_code == 200, answer.text
    assert events(client, started)[-1] == {"status": "done"}
    done = complete(client, started)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/account"
    assert client.get("/account").status_code == 200
    row = session.scalars(
        select(BrowserSessionRecord).where(BrowserSessionRecord.account_id == account)
    ).one()
    assert row.acr == "urn:kluis:acr:attested" and row.amr == ["pop"]


def test_the_wallet_discloses_no_claim_to_log_in(
    client: TestClient, phone: Wallet, session: Session
) -> None:
    started = start(client)
    _, request = phone.resolve_request(started.qr_payload)
    [query] = request["dcql_query"]["credentials"]
    assert "claims" not in query
    assert f"{TEST_ISSUER}/vct/real_person" in query["meta"]["vct_values"]

    phone.present(started.qr_payload)

    token = json.loads(phone.last_vp_token or "{}")
    [presentation] = token[query["id"]]
    assert presentation.count("~") == 1, "issuer JWT ~ KB-JWT: no disclosures"


def test_login_is_audited_without_personal_data(
    client: TestClient, phone: Wallet, session: Session
) -> None:
    started = start(client)
    phone.present(started.qr_payload)
    complete(client, started)

    entry = session.scalars(select(AuditEntry).where(AuditEntry.event == "login.succeeded")).one()
    assert json.loads(entry.entry)["details"] == {"amr": ["pop"], "acr": "urn:kluis:acr:attested"}
    assert entry.subject_ref is not None


def test_without_javascript_continue_before_the_wallet_answers_says_not_yet(
    client: TestClient, phone: Wallet
) -> None:
    started = start(client)

    early = complete(client, started)

    assert early.status_code == 409
    assert "nog niet geantwoord" in early.text
    phone.present(started.qr_payload)
    assert complete(client, started).status_code == 303


def test_a_new_wallet_login_replaces_the_previous_browser_session(
    client: TestClient, phone: Wallet, session: Session, account: str
) -> None:
    first = start(client)
    phone.present(first.qr_payload)
    complete(client, first)
    old_sid = client.cookies.get(SESSION_COOKIE)

    second = start(client)
    phone.present(second.qr_payload)
    complete(client, second)

    assert client.cookies.get(SESSION_COOKIE) != old_sid
    live = session.scalars(
        select(BrowserSessionRecord).where(
            BrowserSessionRecord.account_id == account, BrowserSessionRecord.ended_at.is_(None)
        )
    ).all()
    assert len(live) == 1


# --- attacks ---------------------------------------------------------------------------------


def test_another_browser_that_saw_the_qr_code_cannot_take_the_login_over(
    app: FastAPI, client: TestClient, phone: Wallet
) -> None:
    started = start(client)
    phone.present(started.qr_payload)
    attacker = TestClient(app, base_url=TEST_ISSUER)

    assert attacker.get(started.login_path).status_code == 410
    assert attacker.get(started.login_path + "/events").status_code == 404
    taken = complete(attacker, started)
    assert taken.status_code == 410
    assert SESSION_COOKIE not in attacker.cookies
    # with a forged binding cookie of its own: still nothing
    attacker.cookies.set(WALLET_LOGIN_COOKIE, "forged-secret", path=started.login_path)
    assert complete(attacker, started).status_code == 410
    # the browser that started it still can
    assert complete(client, started).status_code == 303


def test_a_login_cookie_of_one_login_does_not_open_another(
    app: FastAPI, client: TestClient, phone: Wallet
) -> None:
    victim = start(client)
    attacker = TestClient(app, base_url=TEST_ISSUER)
    own = start(attacker)
    secret = attacker.cookies.get(WALLET_LOGIN_COOKIE, path=own.login_path)
    attacker.cookies.set(WALLET_LOGIN_COOKIE, secret, path=victim.login_path)
    phone.present(victim.qr_payload)

    assert complete(attacker, victim).status_code == 410


def test_completing_twice_logs_in_once(
    client: TestClient, phone: Wallet, session: Session, account: str
) -> None:
    started = start(client)
    phone.present(started.qr_payload)
    assert complete(client, started).status_code == 303

    replay = complete(client, started)

    assert replay.status_code == 410
    rows = session.scalars(
        select(BrowserSessionRecord).where(BrowserSessionRecord.account_id == account)
    ).all()
    assert len(rows) == 1


def test_a_replayed_presentation_does_not_complete_a_second_login(
    client: TestClient, phone: Wallet
) -> None:
    first = start(client)
    phone.present(first.qr_payload)
    second = start(client)
    _, request = phone.resolve_request(second.qr_payload)

    replayed = phone.http.post(
        "/verifier/response", data={"vp_token": phone.last_vp_token, "state": request["state"]}
    )

    assert replayed.status_code == 400
    assert complete(client, second).status_code == 409


def test_a_revoked_credential_is_refused_by_the_verifier(
    client: TestClient, phone: Wallet, session: Session, account: str
) -> None:
    [issued] = session.scalars(
        select(IssuedCredential).where(IssuedCredential.account_id == account)
    ).all()
    revoke_credential(session, issued.id, "operator", "operator:test")
    session.commit()
    started = start(client)

    answer = phone.present(started.qr_payload)

    assert answer.status_code == 400
    assert complete(client, started).status_code == 409


def test_a_credential_revoked_after_presenting_does_not_log_in(
    client: TestClient, phone: Wallet, session: Session, account: str
) -> None:
    started = start(client)
    phone.present(started.qr_payload)
    [issued] = session.scalars(
        select(IssuedCredential).where(IssuedCredential.account_id == account)
    ).all()
    revoke_credential(session, issued.id, "operator", "operator:test")
    session.commit()

    refused = complete(client, started)

    assert refused.status_code == 403
    assert SESSION_COOKIE not in client.cookies
    failed = session.scalars(select(AuditEntry).where(AuditEntry.event == "login.failed")).one()
    assert json.loads(failed.entry)["details"] == {"reason": "wallet_credential_refused"}


def test_a_credential_of_an_erased_account_is_refused(
    client: TestClient, phone: Wallet, session: Session, account: str
) -> None:
    for issued in session.scalars(
        select(IssuedCredential).where(IssuedCredential.account_id == account)
    ):
        issued.account_id = None  # what erasure leaves behind
    session.commit()
    started = start(client)

    answer = phone.present(started.qr_payload)

    assert answer.status_code == 400
    assert "cannot be used to log in" in answer.text


def test_a_disabled_account_cannot_log_in_by_wallet(
    client: TestClient, phone: Wallet, session: Session, account: str
) -> None:
    started = start(client)
    phone.present(started.qr_payload)
    row = session.get(Account, account)
    assert row is not None
    row.status = "disabled"
    session.commit()

    assert complete(client, started).status_code == 403


def test_an_expired_login_can_be_neither_presented_to_nor_completed(
    client: TestClient, phone: Wallet
) -> None:
    started = start(client)
    later = utcnow() + dt.timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        assert client.get(started.login_path).status_code == 410
        request_uri = parse_qs(urlsplit(started.qr_payload).query)["request_uri"][0]
        assert phone.http.get(urlsplit(request_uri).path).status_code == 404
        assert complete(client, started).status_code == 410


def test_a_login_completed_after_its_result_expired_is_refused(
    client: TestClient, phone: Wallet
) -> None:
    started = start(client)
    phone.present(started.qr_payload)
    with time_machine.travel(utcnow() + dt.timedelta(minutes=3), tick=False):
        assert complete(client, started).status_code == 410


def test_the_platform_api_cannot_see_kluis_login_sessions(
    client: TestClient, session: Session
) -> None:
    from tests.support.oidc import make_rp

    rp = make_rp(session)
    started = start(client)
    session_id = QR.search(started.page).group(1).split("/")[3]  # type: ignore[union-attr]

    seen = client.get(f"/verifier/sessions/{session_id}", auth=rp.basic())

    assert seen.status_code == 404


def test_the_login_page_offers_the_wallet_in_dutch_and_english(client: TestClient) -> None:
    dutch = client.get("/login")
    english = client.get("/login?lang=en")

    assert 'action="/login/wallet"' in dutch.text and "Log in met je wallet" in dutch.text
    assert "Log in with your wallet" in english.text
    assert "Voor deze dienst log je in" not in dutch.text
    assert "Voor deze dienst log je in" in client.get("/login?mode=wallet&lang=nl").text


def test_starting_a_wallet_login_needs_the_csrf_token(client: TestClient) -> None:
    client.get("/login")

    response = client.post("/login/wallet", data={"return_to": "/account"})

    assert response.status_code == 403


def test_an_unsafe_return_to_is_replaced_by_the_account_page(
    client: TestClient, phone: Wallet
) -> None:
    started = start(client, return_to="https://evil.example/steal")
    phone.present(started.qr_payload)

    assert complete(client, started).headers["location"] == "/account"
