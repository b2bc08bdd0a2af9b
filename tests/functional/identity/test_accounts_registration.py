"""Registration, e-mail verification and the first login, driven through the pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re

import pytest
import time_machine
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from core.db import utcnow
from core.logging import JsonFormatter
from identity.accounts.models import Account, AccountStatus
from identity.accounts.service import Accounts, account_claims, find_by_email, get_account
from identity.accounts.sessions import SESSION_COOKIE, current_session
from keys import derive_key
from keys.models import SubjectKey
from service.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support.accounts import (
    STRONG_PASSWORD,
    install_fast_accounts,
    link_in,
    log_in,
    outbox,
    post_form,
    register,
    relative,
)

EMAIL = "Klaas.Vaessen@Example.org"
NAME = "Klaas Vaessen"


@pytest.fixture
def accounts(app: FastAPI) -> Accounts:
    return install_fast_accounts(app)


def request_with_cookie(sid: str) -> Request:
    return Request({"type": "http", "headers": [(b"cookie", f"{SESSION_COOKIE}={sid}".encode())]})


def test_register_verify_and_log_in_gives_a_session_the_provider_can_read(
    client: TestClient, accounts: Accounts, session: Session, settings: Settings
) -> None:
    response = register(client, EMAIL, name=NAME)
    assert response.status_code == 303 and response.headers["location"] == "/register?status=sent"
    assert "Kijk in je mailbox" in client.get(response.headers["location"]).text

    (mail,) = outbox(settings.mail_outbox_dir)
    assert mail["To"] == EMAIL.lower() and mail["Subject"] == "Bevestig je e-mailadres"
    verified = client.get(relative(link_in(mail, "/verify-email")), follow_redirects=False)
    assert verified.status_code == 303
    assert verified.headers["location"] == "/login?status=email_verified"
    assert "Je e-mailadres is bevestigd" in client.get(verified.headers["location"]).text

    login = log_in(client, EMAIL, return_to="/authorize/continue/abc")
    assert login.status_code == 303 and login.headers["location"] == "/authorize/continue/abc"
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # http issuer in tests; see the https test
    sid = client.cookies[SESSION_COOKIE]

    browser = current_session(request_with_cookie(sid), session)
    assert browser is not None and browser.sid == sid
    assert browser.amr == ["pwd"] and browser.acr == "urn:kluis:acr:password"
    account = get_account(session, browser.account_id)
    assert account is not None and account.email_verified
    assert account_claims(session, accounts.subject_keys, account) == {
        "email": EMAIL.lower(),
        "email_verified": True,
        "name": NAME,
        "preferred_username": account.handle,  # never the name: that is the field `name`
    }
    assert current_session(request_with_cookie("forged"), session) is None


def test_account_row_holds_only_encrypted_personal_data_and_a_blind_index(
    client: TestClient, accounts: Accounts, session: Session
) -> None:
    register(client, EMAIL, name=NAME)
    account = find_by_email(accounts, session, EMAIL.lower())
    assert account is not None
    assert re.fullmatch(r"[0-9a-f]{32}", account.id)
    index_key = derive_key(TEST_SECRET.encode(), "kluis/identity/email-index")
    expected = hmac.new(index_key, EMAIL.lower().encode(), hashlib.sha256).hexdigest()
    assert account.email_index == expected
    assert account.email_enc and EMAIL.lower().encode() not in account.email_enc
    assert account.name_enc and NAME.encode() not in account.name_enc
    assert account.password_hash and account.password_hash.startswith("$argon2id$")
    assert account.status == AccountStatus.ACTIVE and not account.email_verified
    assert re.fullmatch(r"bewoner-[a-z2-9]{6}", account.handle)
    assert session.get(SubjectKey, account.id) is not None  # its own data key


def test_the_username_is_a_neutral_handle_without_a_name_too(
    client: TestClient, accounts: Accounts, session: Session
) -> None:
    register(client, "jan.jansen@example.org")
    account = find_by_email(accounts, session, "jan.jansen@example.org")
    assert account is not None
    claims = account_claims(session, accounts.subject_keys, account)
    assert claims["preferred_username"] == account.handle
    assert "jan" not in str(claims["preferred_username"])
    assert "name" not in claims


def test_registering_a_known_address_looks_the_same_and_warns_the_owner(
    client: TestClient, accounts: Accounts, session: Session, settings: Settings
) -> None:
    first = register(client, EMAIL)
    second = register(client, EMAIL.upper(), password="een ander wachtwoord")
    assert (first.status_code, first.headers["location"]) == (
        second.status_code,
        second.headers["location"],
    )
    assert session.scalar(select(func.count()).select_from(Account)) == 1
    _verification, warning = outbox(settings.mail_outbox_dir)
    assert warning["To"] == EMAIL.lower()
    assert "Iemand probeerde" in str(warning["Subject"])
    with pytest.raises(AssertionError):
        link_in(warning, "/verify-email")


@pytest.mark.parametrize(
    ("email", "password", "field", "message"),
    [
        ("not-an-address", STRONG_PASSWORD, "email", "Vul een geldig e-mailadres in"),
        (EMAIL, "te kort", "password", "minstens 10 tekens"),
        ("jan@example.org", "JAN@example.org", "password", "niet hetzelfde"),
    ],
)
def test_registration_explains_bad_input_and_creates_nothing(
    client: TestClient,
    accounts: Accounts,
    session: Session,
    settings: Settings,
    email: str,
    password: str,
    field: str,
    message: str,
) -> None:
    response = register(client, email, password=password)
    assert response.status_code == 400
    assert message in response.text
    assert f'id="{field}-error"' in response.text
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', response.text)
    assert session.scalar(select(func.count()).select_from(Account)) == 0
    assert outbox(settings.mail_outbox_dir) == []


def test_login_before_verification_gives_no_session_and_resends_the_link_sparingly(
    client: TestClient, accounts: Accounts, settings: Settings
) -> None:
    register(client, EMAIL)
    response = log_in(client, EMAIL)
    assert response.status_code == 400
    assert "nog niet bevestigd" in response.text
    assert SESSION_COOKIE not in client.cookies
    assert len(outbox(settings.mail_outbox_dir)) == 1  # the link of a moment ago still works
    with time_machine.travel(utcnow() + accounts.mail_cooldown + dt.timedelta(seconds=1)):
        assert log_in(client, EMAIL).status_code == 400
        first, second = outbox(settings.mail_outbox_dir)
        # only the newest link works
        stale = client.get(relative(link_in(first, "/verify-email")), follow_redirects=False)
        assert stale.status_code == 400
        fresh = client.get(relative(link_in(second, "/verify-email")), follow_redirects=False)
        assert fresh.status_code == 303
        assert log_in(client, EMAIL).status_code == 303


def test_verification_link_works_once(
    client: TestClient, accounts: Accounts, settings: Settings
) -> None:
    register(client, EMAIL)
    link = relative(link_in(outbox(settings.mail_outbox_dir)[0], "/verify-email"))
    assert client.get(link, follow_redirects=False).status_code == 303
    again = client.get(link, follow_redirects=False)
    assert again.status_code == 400
    assert "verlopen, al gebruikt of klopt niet" in again.text
    assert client.get("/verify-email?token=made-up").status_code == 400


def test_verification_link_brings_the_resident_back_to_where_they_started(
    client: TestClient, accounts: Accounts, settings: Settings
) -> None:
    start = "/authorize/continue/xyz"
    post_form(
        client,
        "/register",
        {"email": EMAIL, "password": STRONG_PASSWORD, "return_to": start},
    )
    link = relative(link_in(outbox(settings.mail_outbox_dir)[0], "/verify-email"))
    landed = client.get(link, follow_redirects=False).headers["location"]
    assert "return_to=%2Fauthorize%2Fcontinue%2Fxyz" in landed
    page = client.get(landed).text
    assert f'name="return_to" value="{start}"' in page


def test_personal_data_never_reaches_logs_or_the_audit_log(
    client: TestClient,
    accounts: Accounts,
    session: Session,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        register(client, EMAIL, name=NAME)
        register(client, EMAIL, name=NAME)  # the repeated registration
        link = relative(link_in(outbox(settings.mail_outbox_dir)[0], "/verify-email"))
        client.get(link)
        log_in(client, EMAIL, password="helemaal fout wachtwoord")
        log_in(client, "onbekend@example.org", password="helemaal fout wachtwoord")
        log_in(client, EMAIL)
        post_form(client, "/password/forgot", {"email": EMAIL})
        post_form(client, "/logout-local", {}, csrf_from="/login")
    server_lines = [
        JsonFormatter().format(r) for r in caplog.records if not r.name.startswith("httpx")
    ]
    assert server_lines
    entries = session.scalars(select(AuditEntry.entry)).all()
    events = {json.loads(e)["event"] for e in entries}
    assert {
        "account.registered",
        "account.registration_repeated",
        "account.email_verified",
        "login.failed",
        "login.succeeded",
        "password.reset_requested",
        "session.ended",
    } <= events
    for text in [*server_lines, *entries]:
        lowered = text.lower()
        for secret in (EMAIL.lower(), "onbekend@example.org", NAME.lower(), "klaas"):
            assert secret not in lowered, text
        assert STRONG_PASSWORD not in text and "helemaal fout" not in text


def test_check_your_inbox_offers_a_new_link_and_says_the_same_for_any_address(
    client: TestClient, accounts: Accounts, settings: Settings
) -> None:
    assert register(client, EMAIL).headers["location"] == "/register?status=sent"
    sent_page = client.get("/register?status=sent").text
    assert 'action="/register/resend"' in sent_page and "Niets gekregen?" in sent_page

    def resend(address: str) -> str:
        response = post_form(
            client, "/register/resend", {"email": address}, csrf_from="/register?status=sent"
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/register?status=resent"
        return client.get(response.headers["location"]).text

    # within the cooldown: no second mail, and the same answer as for an unknown address
    assert resend(EMAIL) == resend("niemand@example.org")
    assert len(outbox(settings.mail_outbox_dir)) == 1
    with time_machine.travel(utcnow() + accounts.mail_cooldown + dt.timedelta(seconds=1)):
        page = resend(EMAIL.upper())  # typed differently: the same address
        assert "nieuwe link gestuurd" in page
        _first, second = outbox(settings.mail_outbox_dir)
        fresh = client.get(relative(link_in(second, "/verify-email")), follow_redirects=False)
        assert fresh.status_code == 303
    # a confirmed address gets no more links, however long one waits
    with time_machine.travel(utcnow() + 3 * accounts.mail_cooldown):
        resend(EMAIL)
        assert len(outbox(settings.mail_outbox_dir)) == 2
