"""Irreversible actions ask who it is and show what will happen first (#11): deleting the
account and erasing a field need the password again (or, for an account without one, a
login of the last 10 minutes), list the platforms that will be told, and the erase-field page
offers only fields Kluis holds. A refused attempt erases nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations import AttestationConfig, create_offer
from core.db import utcnow
from identity.accounts.models import Account
from identity.accounts.service import Accounts
from keys import SubjectKeys
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.accounts import STRONG_PASSWORD, install_fast_accounts
from tests.support.attestations import INPUTS
from tests.support.oidc import RP, Resident, code_flow, make_resident, make_rp

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def accounts(app: FastAPI) -> Accounts:
    return install_fast_accounts(app)


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session, name="Buurtbudget Oost")


def with_password(session: Session, accounts: Accounts, resident: Resident) -> None:
    account = session.get(Account, resident.account_id)
    assert account is not None
    account.password_hash = accounts.passwords.hash(STRONG_PASSWORD)
    session.commit()


def submit(client: TestClient, path: str, **fields: str) -> object:
    [token] = _CSRF.findall(client.get(path).text)[:1]
    return client.post(path, data={**fields, "csrf_token": token}, follow_redirects=False)


def test_deleting_the_account_shows_who_is_told_and_needs_the_password(
    client: TestClient, session: Session, runtime: Runtime, accounts: Accounts, rp: RP
) -> None:
    resident = make_resident(runtime, session, client)
    with_password(session, accounts, resident)
    code_flow(client, rp, allow=["email"])

    page = client.get("/account/delete")
    told = re.search(r'<ul id="platforms-told">(.*?)</ul>', page.text, re.S)
    assert told and "Buurtbudget Oost" in told.group(1)
    assert 'name="password"' in page.text and 'autocomplete="current-password"' in page.text

    for wrong in ("", "niet mijn wachtwoord"):
        refused = submit(client, "/account/delete", confirm="yes", password=wrong)
        assert refused.status_code == 400  # type: ignore[attr-defined]
        assert "Er is niets gewist" in refused.text  # type: ignore[attr-defined]
        assert session.get(Account, resident.account_id) is not None
    done = submit(client, "/account/delete", confirm="yes", password=STRONG_PASSWORD)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"].startswith("/account/deleted?ref=")  # type: ignore[attr-defined]
    session.expire_all()
    assert session.get(Account, resident.account_id) is None


def test_wrong_passwords_for_an_irreversible_action_count_towards_the_login_limit(
    client: TestClient, session: Session, runtime: Runtime, accounts: Accounts
) -> None:
    resident = make_resident(runtime, session, client)
    with_password(session, accounts, resident)
    statuses = [
        submit(client, "/account/erase-field", field="name", password="raden").status_code  # type: ignore[attr-defined]
        for _ in range(accounts.limiter.limits.per_account + 1)
    ]
    assert statuses == [400] * accounts.limiter.limits.per_account + [429]
    account = session.get(Account, resident.account_id)
    assert account is not None and account.name_enc  # the name is still there


def test_an_empty_password_is_asked_for_and_not_counted(
    client: TestClient, session: Session, runtime: Runtime, accounts: Accounts
) -> None:
    resident = make_resident(runtime, session, client)
    with_password(session, accounts, resident)
    statuses = []
    for _ in range(accounts.limiter.limits.per_account + 1):
        refused = submit(client, "/account/delete", confirm="yes", password="")
        statuses.append(refused.status_code)  # type: ignore[attr-defined]
        assert "Vul je wachtwoord in" in refused.text  # type: ignore[attr-defined]
        assert "klopt niet" not in refused.text  # type: ignore[attr-defined]
    assert statuses == [400] * (accounts.limiter.limits.per_account + 1)  # never throttled
    done = submit(client, "/account/delete", confirm="yes", password=STRONG_PASSWORD)
    assert done.status_code == 303  # type: ignore[attr-defined]


def test_an_account_without_a_password_needs_a_recent_login(
    client: TestClient, session: Session, runtime: Runtime, accounts: Accounts
) -> None:
    resident = make_resident(runtime, session, client)  # no password (as after a desk or QR login)
    page = client.get("/account/delete").text
    assert 'name="password"' not in page and "binnen 10 minuten" in page
    with time_machine.travel(utcnow() + dt.timedelta(minutes=11)):
        refused = submit(client, "/account/delete", confirm="yes")
        assert refused.status_code == 400  # type: ignore[attr-defined]
        assert "Log eerst opnieuw in" in refused.text  # type: ignore[attr-defined]
    session.expire_all()
    assert session.get(Account, resident.account_id) is not None


def test_the_erase_field_page_offers_only_what_kluis_holds_and_who_got_it(
    client: TestClient,
    session: Session,
    runtime: Runtime,
    accounts: Accounts,
    subject_keys: SubjectKeys,
    rp: RP,
) -> None:
    resident = make_resident(runtime, session, client, name=None)
    assert 'id="nothing-to-erase"' in client.get("/account/erase-field").text

    create_offer(
        session,
        subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=resident.account_id,
        type_id="age",
        claims=INPUTS["age"],
        actor="operator:cli",
    )
    session.commit()
    page = client.get("/account/erase-field").text
    assert re.findall(r'name="field" value="([^"]+)"', page) == ["age"]
    assert 'data-told=""' in page  # no platform received the proof of age

    named = make_resident(runtime, session, client, email="naam@example.org")
    code_flow(client, rp, allow=["name"])
    page = client.get("/account/erase-field").text
    assert re.findall(r'name="field" value="([^"]+)"', page) == ["name"]
    assert 'data-told="Buurtbudget Oost"' in page
    assert named.account_id != resident.account_id
