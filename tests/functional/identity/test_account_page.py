"""The resident's account page: login required, their own details, and only METADATA of their
credential offers and attestations (never a claim value or a transaction code)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations import AttestationConfig, CreatedOffer, create_offer, revoke_credential
from attestations.issuance import PRE_AUTH_GRANT
from attestations.statuslist import issued_credentials
from core.db import utcnow
from identity.accounts.models import Account, AccountStatus
from identity.accounts.service import Accounts, create_account
from tests.conftest import TEST_ISSUER
from tests.support.accounts import STRONG_PASSWORD, csrf_token, install_fast_accounts, log_in
from tests.support.pages import shows
from tests.support.wallet import Wallet

EMAIL = "klaas.vaak@example.org"
NAME = "Klaas Vaak"
POSTCODE = {
    "postcode": "1087AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "letter",
}
CLAIM_VALUES = ("1087", "GM0363", "Amsterdam", "letter", "1990", "age_over")


@pytest.fixture
def accounts(app: FastAPI) -> Accounts:
    return install_fast_accounts(app)


def _resident(accounts: Accounts, session: Session, email: str, name: str | None) -> Account:
    account = create_account(
        accounts,
        session,
        email=email,
        name=name,
        password_hash=accounts.passwords.hash(STRONG_PASSWORD),
        status=AccountStatus.ACTIVE,
        email_verified=True,
    )
    session.commit()
    return account


@pytest.fixture
def resident(accounts: Accounts, session: Session) -> Account:
    return _resident(accounts, session, EMAIL, NAME)


def _offer(
    session: Session,
    accounts: Accounts,
    account: Account,
    type_id: str = "postcode",
    now: dt.datetime | None = None,
) -> CreatedOffer:
    claims = POSTCODE if type_id == "postcode" else {"birth_date": "1990-05-17"}
    created = create_offer(
        session,
        accounts.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=account.id,
        type_id=type_id,
        claims=claims,
        actor="operator:cli",
        now=now,
    )
    session.commit()
    return created


def _states(html: str, table: str) -> list[str]:
    section = html.split(f'id="{table}-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'data-state="([a-z_]+)"', section)


def test_account_page_without_a_session_redirects_to_login(client: TestClient) -> None:
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?return_to=/account"
    login = client.get(response.headers["location"])
    assert 'name="return_to" value="/account"' in login.text


def test_login_without_return_to_lands_on_the_account_page(
    client: TestClient, resident: Account
) -> None:
    page = client.get("/login").text
    assert 'name="return_to" value="/account"' in page
    response = client.post(
        "/login",
        data={"email": EMAIL, "password": STRONG_PASSWORD, "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/account"
    kept = log_in(client, EMAIL, return_to="/authorize/continue/p1?x=1")
    assert kept.headers["location"] == "/authorize/continue/p1?x=1"


def test_account_page_shows_details_and_metadata_but_no_claim_or_code(
    client: TestClient, resident: Account, accounts: Accounts, session: Session
) -> None:
    wallet = Wallet(client)
    collected = _offer(session, accounts, resident)
    [first, *_] = wallet.accept(collected.offer_uri, collected.tx_code, count=3)
    revoke_credential(session, issued_credentials(session, resident.id)[0].id, "operator", "t")
    session.commit()
    open_offer = _offer(session, accounts, resident, "age")
    expired = _offer(session, accounts, resident, now=utcnow() - dt.timedelta(hours=1))
    blocked = _offer(session, accounts, resident)
    grant = wallet.resolve_offer(blocked.offer_uri)["grants"][PRE_AUTH_GRANT]
    _, as_md = wallet.metadata(TEST_ISSUER)
    wrong = f"{(int(blocked.tx_code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert wallet.token(as_md, grant["pre-authorized_code"], wrong).status_code == 400
    someone_else = _resident(accounts, session, "ander@example.org", "Iemand Anders")
    _offer(session, accounts, someone_else)

    assert log_in(client, EMAIL).status_code == 303
    response = client.get("/account")
    html = response.text

    assert response.status_code == 200 and "no-store" in response.headers["cache-control"]
    assert '<html lang="nl">' in html and "<h1>Mijn account</h1>" in html
    assert resident.handle in html and NAME in html and EMAIL in html
    assert "Iemand Anders" not in html and "ander@example.org" not in html
    # newest first; the expired one was made an hour "ago"
    assert _states(html, "offers") == ["blocked", "open", "used", "expired"]
    assert _states(html, "credentials") == ["partly_revoked"]
    assert "1 van de 3 ingetrokken" in html and "Woonplaatsbewijs" in html
    assert "Leeftijdsbewijs" in html  # the open age offer
    for created in (collected, open_offer, expired, blocked):
        assert not shows(html, created.tx_code)
        assert created.offer_uri not in html and created.credential_offer_uri not in html
    assert not any(shows(html, value) for value in CLAIM_VALUES)
    assert grant["pre-authorized_code"] not in html and first.credential[:40] not in html
    assert "<script" not in html
    assert re.search(r'<form method="post" action="/logout-local">\s*<input type="hidden"', html)
    assert html.count("<table") == 2 and html.count('scope="col"') == 9


def test_account_page_in_english_and_logout_from_it(client: TestClient, resident: Account) -> None:
    log_in(client, EMAIL)
    html = client.get("/account", params={"lang": "en"}).text
    assert '<html lang="en">' in html and "<h1>My account</h1>" in html
    assert "No proofs are waiting for you." in html
    assert "You have not received any proofs yet." in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    out = client.post("/logout-local", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_redirect_keeps_the_chosen_language(client: TestClient) -> None:
    response = client.get("/account", params={"lang": "en"}, follow_redirects=False)
    assert response.headers["location"] == "/login?return_to=/account&lang=en"


def test_dates_are_written_out_in_the_page_language() -> None:
    import datetime as dt

    from core.i18n import when

    moment = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)  # 01:30 CET, the night DST starts
    assert when(moment, lang="nl").text == "29 maart 2026, 01:30"
    assert when(moment, lang="en").text == "29 March 2026, 01:30"
    assert when(moment + dt.timedelta(hours=1), lang="nl").text == "29 maart 2026, 03:30"
    assert when(moment, day_only=True, lang="en").text == "29 March 2026"
    assert when(moment, day_only=True).iso == "2026-03-29"
