"""Login by QR through the built-in Kluis wallet: the desktop browser starts a login, the
resident's phone (another browser, logged in to Kluis, with a credential in the Kluis wallet)
opens the universal link, types the pairing code that only the desktop shows, and approves;
the desktop is logged in as that resident. The code is the relay guard: it is never shown on
the phone, and three wrong codes cancel the login."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.verifier.models import WalletLogin
from attestations.verifier.qr_login import WALLET_LOGIN_COOKIE
from attestations.verifier.routes_login import _events
from attestations.wallet import issue_to_wallet
from identity.accounts.models import Account, BrowserSessionRecord
from identity.accounts.sessions import SESSION_COOKIE
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.wallet.test_approve_page import post
from tests.support.attestations import INPUTS
from tests.support.oidc import Resident, make_resident
from tests.support.pages import shows
from tests.support.wallet_login import Started, complete, events, start

CODE = re.compile(r'<strong id="pairing-code">(\d*)</strong>')


@pytest.fixture
def phone(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=TEST_ISSUER) as phone:
        yield phone


@pytest.fixture
def resident(runtime: Runtime, session: Session, phone: TestClient) -> Resident:
    """Logged in to Kluis on the phone, a `real_person` credential in the Kluis wallet."""
    resident = make_resident(runtime, session, phone, email="telefoon@example.org")
    issue_to_wallet(
        session,
        runtime.keyring,
        runtime.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=resident.account_id,
        type_id="real_person",
        claims=INPUTS["real_person"],
        actor="operator:cli",
    )
    session.commit()
    return resident


def open_on_phone(phone: TestClient, started: Started) -> str:
    link = "/verifier/open?" + urlsplit(started.qr_payload).query
    response = phone.get(link, follow_redirects=False)
    assert response.status_code == 303, response.text
    page: str = response.headers["location"]
    assert page.startswith("/wallet/sessions/")
    return page


def code_on_desktop(desktop: TestClient, started: Started) -> str:
    found = CODE.search(desktop.get(started.login_path).text)
    assert found is not None
    return found.group(1)


class _Browser:
    """The one thing the event stream asks of its request."""

    async def is_disconnected(self) -> bool:
        return False


def first_event(
    app: FastAPI, session: Session, desktop: TestClient, started: Started
) -> dict[str, str]:
    """The stream's first `status` event (limit 0: it stops after one read)."""
    login_id = started.login_path.rsplit("/", 1)[-1]
    login = session.get(WalletLogin, login_id)
    assert login is not None
    watched = (login_id, login.verifier_session_id)
    secret = desktop.cookies.get(WALLET_LOGIN_COOKIE)

    async def read() -> list[str]:
        browser: Any = _Browser()
        stream = _events(browser, app.state.db, watched, secret, 0.0, None)
        return [chunk async for chunk in stream]

    [chunk] = asyncio.run(read())
    state: dict[str, str] = json.loads(chunk.split("data: ", 1)[1])
    return state


def test_the_kluis_wallet_on_the_phone_logs_the_desktop_in_with_the_code_the_desktop_shows(
    app: FastAPI, client: TestClient, phone: TestClient, session: Session, resident: Resident
) -> None:
    started = start(client)
    assert 'id="pairing-code"></strong>' in started.page  # nothing to type yet

    page = open_on_phone(phone, started)
    code = code_on_desktop(client, started)
    assert len(code) == 4
    assert first_event(app, session, client, started) == {"status": "scanned", "pairing_code": code}
    pair_page = phone.get(page)
    assert 'id="pair-form"' in pair_page.text and "Kluis" in pair_page.text
    assert not shows(pair_page.text, code)  # the phone never shows the code
    assert phone.get(started.login_path).status_code == 410  # nor reads the desktop's page

    assert post(phone, page, "pair", code=code).status_code == 303
    approve_page = phone.get(page)
    assert 'id="login-notice"' in approve_page.text and "asked-claims" not in approve_page.text
    # a login, said as one: who logs in, and no "sharing" words on its buttons
    handle = session.get(Account, resident.account_id).handle  # type: ignore[union-attr]
    assert "<h1>Inloggen op een ander scherm</h1>" in approve_page.text
    assert f"als {handle}," in approve_page.text and 'id="purpose"' not in approve_page.text
    assert ">Inloggen</button>" in approve_page.text and "Delen</button>" not in approve_page.text
    shared = post(phone, page, "decision", decision="allow")
    assert shared.status_code == 200 and "<h1>Ingelogd</h1>" in shared.text

    assert events(client, started)[-1] == {"status": "done"}
    done = complete(client, started)
    assert done.status_code == 303 and done.headers["location"] == "/account"
    sid = client.cookies.get(SESSION_COOKIE)
    assert sid is not None and sid != resident.sid
    row = session.scalars(
        select(BrowserSessionRecord).where(
            BrowserSessionRecord.account_id == resident.account_id,
            BrowserSessionRecord.acr == "urn:kluis:acr:attested",
        )
    ).one()
    assert row.amr == ["pop"]


def test_three_wrong_codes_cancel_the_login(
    client: TestClient, phone: TestClient, resident: Resident
) -> None:
    started = start(client)
    page = open_on_phone(phone, started)
    code = code_on_desktop(client, started)
    wrong = f"{(int(code) + 1) % 10000:04d}"

    assert post(phone, page, "pair", code=wrong).status_code == 400
    assert post(phone, page, "pair", code=wrong).status_code == 400
    last = post(phone, page, "pair", code=wrong)

    assert last.status_code == 410
    assert post(phone, page, "pair", code=code).status_code == 410  # too late for the right one
    assert phone.get(page).status_code == 410
    assert client.get(started.login_path).status_code == 410
    assert events(client, started) == [{"status": "cancelled"}]
    assert complete(client, started).status_code == 410
    assert client.get("/account", follow_redirects=False).status_code == 303  # not logged in


def test_an_unpaired_phone_cannot_approve_the_login(
    client: TestClient, phone: TestClient, resident: Resident
) -> None:
    started = start(client)
    page = open_on_phone(phone, started)

    skipped = post(phone, page, "decision", decision="allow")

    assert skipped.status_code == 303 and skipped.headers["location"] == page
    assert complete(client, started).status_code == 409  # the wallet has not answered
