"""Driving login by QR from a test: the desktop browser (a TestClient) starts it, the phone
(tests/support/wallet.py) presents, the desktop completes."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.issuance import create_offer
from keys import SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.accounts import csrf_token
from tests.support.attestations import INPUTS
from tests.support.wallet import Wallet

LINK = re.compile(r'href="([^"]*/verifier/open\?[^"]*)"')
QR = re.compile(r'src="(/verifier/sessions/[^"]+/qr\.svg)"')


@dataclass
class Started:
    login_path: str
    qr_payload: str
    page: str


def start(browser: TestClient, return_to: str = "/account") -> Started:
    """Press "Log in with your wallet" on the login page; the QR page's payload."""
    token = csrf_token(browser, "/login")
    response = browser.post(
        "/login/wallet",
        data={"csrf_token": token, "return_to": return_to},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    login_path = response.headers["location"]
    assert login_path.startswith("/login/wallet/")
    page = browser.get(login_path)
    assert page.status_code == 200, page.text
    found = LINK.search(page.text)
    assert found, "the page shows the universal link"
    link = html.unescape(found.group(1))
    return Started(login_path, "openid4vp://?" + urlsplit(link).query, page.text)


def complete(browser: TestClient, started: Started) -> Any:
    """Press "I have scanned, continue"."""
    token = csrf_token(browser, "/login")
    return browser.post(started.login_path, data={"csrf_token": token}, follow_redirects=False)


def events(browser: TestClient, started: Started) -> list[dict[str, str]]:
    response = browser.get(started.login_path + "/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    lines = response.text.splitlines()
    return [json.loads(line[6:]) for line in lines if line.startswith("data: ")]


def phone_for(app: FastAPI, session: Session, subject_keys: SubjectKeys, account_id: str) -> Wallet:
    """A wallet on another device (its own HTTP client) holding a `real_person` credential
    issued to `account_id` through OpenID4VCI."""
    created = create_offer(
        session,
        subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=account_id,
        type_id="real_person",
        claims=INPUTS["real_person"],
        actor="operator:cli",
    )
    session.commit()
    wallet = Wallet(TestClient(app, base_url=TEST_ISSUER))
    wallet.accept(created.offer_uri, created.tx_code)
    return wallet
