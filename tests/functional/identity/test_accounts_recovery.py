"""Forgotten password: the reset link by mail, its single use, and what a reset ends."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.db import utcnow
from identity.accounts.models import Account, AccountStatus
from identity.accounts.service import Accounts, create_account
from identity.accounts.sessions import SESSION_COOKIE, find_browser_session
from service.settings import Settings
from tests.support.accounts import (
    STRONG_PASSWORD,
    install_fast_accounts,
    link_in,
    log_in,
    outbox,
    post_form,
    relative,
    token_of,
)

EMAIL = "marieke@example.org"
NEW_PASSWORD = "een gloednieuw wachtwoord"


@pytest.fixture
def accounts(app: FastAPI) -> Accounts:
    return install_fast_accounts(app)


@pytest.fixture
def resident(accounts: Accounts, session: Session) -> Account:
    account = create_account(
        accounts,
        session,
        email=EMAIL,
        name=None,
        password_hash=accounts.passwords.hash(STRONG_PASSWORD),
        status=AccountStatus.ACTIVE,
        email_verified=True,
    )
    session.commit()
    return account


def request_reset(client: TestClient, settings: Settings, email: str = EMAIL) -> str:
    response = post_form(client, "/password/forgot", {"email": email})
    assert response.status_code == 303
    assert response.headers["location"] == "/password/forgot?status=sent"
    return relative(link_in(outbox(settings.mail_outbox_dir)[-1], "/password/reset"))


def test_reset_sets_a_new_password_ends_every_session_and_works_once(
    app: FastAPI, client: TestClient, resident: Account, session: Session, settings: Settings
) -> None:
    with TestClient(app) as other_device:
        log_in(other_device, EMAIL)
        stolen_sid = other_device.cookies[SESSION_COOKIE]
    link = request_reset(client, settings)
    page = client.get(link)
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.text
    token = token_of(link)
    response = post_form(
        client, "/password/reset", {"token": token, "password": NEW_PASSWORD}, csrf_from=link
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?status=password_reset"
    assert find_browser_session(session, stolen_sid) is None

    assert log_in(client, EMAIL, STRONG_PASSWORD).status_code == 400
    assert log_in(client, EMAIL, NEW_PASSWORD).status_code == 303

    reused = post_form(
        client,
        "/password/reset",
        {"token": token, "password": "nog een ander wachtwoord"},
        csrf_from="/login",
    )
    assert reused.status_code == 400 and "al gebruikt" in reused.text
    assert client.get(link).status_code == 400
    assert log_in(client, EMAIL, NEW_PASSWORD).status_code == 303


def test_forgot_password_answers_the_same_for_unknown_addresses_and_sends_nothing(
    client: TestClient, resident: Account, settings: Settings
) -> None:
    known = post_form(client, "/password/forgot", {"email": EMAIL})
    unknown = post_form(client, "/password/forgot", {"email": "niemand@example.org"})
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    mails = outbox(settings.mail_outbox_dir)
    assert [m["To"] for m in mails] == [EMAIL]
    assert "30 minuten" in client.get(known.headers["location"]).text


def test_forgot_password_says_when_what_was_typed_is_no_address_and_keeps_it(
    client: TestClient, settings: Settings
) -> None:
    response = post_form(client, "/password/forgot", {"email": "geen-adres"})
    assert response.status_code == 400
    assert "Vul een geldig e-mailadres in" in response.text
    assert 'value="geen-adres"' in response.text and 'aria-invalid="true"' in response.text
    assert outbox(settings.mail_outbox_dir) == []


def test_weak_new_password_is_explained_and_does_not_use_up_the_link(
    client: TestClient, resident: Account, settings: Settings
) -> None:
    link = request_reset(client, settings)
    token = token_of(link)
    weak = post_form(client, "/password/reset", {"token": token, "password": EMAIL}, csrf_from=link)
    assert weak.status_code == 400
    assert 'id="password-error"' in weak.text and "niet hetzelfde" in weak.text
    ok = post_form(
        client, "/password/reset", {"token": token, "password": NEW_PASSWORD}, csrf_from=link
    )
    assert ok.status_code == 303


def test_reset_link_expires(client: TestClient, resident: Account, settings: Settings) -> None:
    link = request_reset(client, settings)
    with time_machine.travel(utcnow() + dt.timedelta(minutes=31)):
        assert client.get(link).status_code == 400
        expired = post_form(
            client,
            "/password/reset",
            {"token": token_of(link), "password": NEW_PASSWORD},
            csrf_from="/login",
        )
    assert expired.status_code == 400
    assert log_in(client, EMAIL, STRONG_PASSWORD).status_code == 303


def test_reset_mails_are_not_repeated_within_minutes_and_only_the_newest_link_works(
    client: TestClient, resident: Account, accounts: Accounts, settings: Settings
) -> None:
    first = request_reset(client, settings)
    again = post_form(client, "/password/forgot", {"email": EMAIL})
    assert again.headers["location"] == "/password/forgot?status=sent"  # same answer
    assert len(outbox(settings.mail_outbox_dir)) == 1
    with time_machine.travel(utcnow() + accounts.mail_cooldown + dt.timedelta(seconds=1)):
        second = request_reset(client, settings)
        assert second != first
        assert client.get(first).status_code == 400
        assert client.get(second).status_code == 200


def test_reset_confirms_an_unverified_address_and_lifts_the_account_throttle(
    client: TestClient, resident: Account, session: Session, settings: Settings
) -> None:
    resident.email_verified = False
    session.commit()
    for _ in range(settings.login_max_failures):
        log_in(client, EMAIL, "helemaal verkeerd!")
    assert log_in(client, EMAIL, STRONG_PASSWORD).status_code == 429
    link = request_reset(client, settings)
    post_form(
        client,
        "/password/reset",
        {"token": token_of(link), "password": NEW_PASSWORD},
        csrf_from=link,
    )
    session.refresh(resident)
    assert resident.email_verified
    assert log_in(client, EMAIL, NEW_PASSWORD).status_code == 303
