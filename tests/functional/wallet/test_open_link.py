"""The universal link (`/verifier/open`) in a browser without a Kluis login: a small chooser
between a wallet app (the same request as an `openid4vp://` link) and the Kluis wallet (log in,
then back to the link). Choosing takes nothing: the session stays `pending`, no pairing code."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.wallet.test_approve_page import start, status
from tests.support.oidc import RP, hidden_fields, make_resident, make_rp

HREF = re.compile(r'<a id="(open-in-app|use-kluis-wallet)" href="([^"]*)"')


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session, name="Buurtplatform Oost")


def links(page: str) -> dict[str, str]:
    return {name: html.unescape(href) for name, href in HREF.findall(page)}


def link_path(created: dict[str, Any]) -> str:
    return str(created["universal_link"]).removeprefix(TEST_ISSUER)


def test_without_a_login_the_link_offers_a_wallet_app_or_the_kluis_wallet(
    client: TestClient, rp: RP
) -> None:
    created = start(client, rp)

    page = client.get(link_path(created), follow_redirects=False)

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    found = links(page.text)
    assert found["open-in-app"] == created["qr_payload"]
    assert found["open-in-app"].startswith("openid4vp://?")
    login = urlsplit(found["use-kluis-wallet"])
    assert login.path == "/login"
    assert parse_qs(login.query)["return_to"] == [link_path(created)]
    assert "<script" not in page.text.split("<main", 1)[-1]
    assert "Open in je wallet-app" in page.text and "Gebruik je Kluis-wallet" in page.text
    assert re.search(r'<p id="who-asks">Buurtplatform Oost vraagt je', page.text)  # who asks
    assert status(client, rp, created) == {"status": "pending"}  # nothing taken up


def test_the_chooser_speaks_english_on_request(client: TestClient, rp: RP) -> None:
    created = start(client, rp)

    page = client.get(link_path(created), headers={"Accept-Language": "en"})

    assert "Open in your wallet app" in page.text and "Use your Kluis wallet" in page.text


def test_logging_in_from_the_chooser_comes_back_to_the_kluis_wallet(
    client: TestClient, rp: RP, runtime: Runtime, session: Session
) -> None:
    created = start(client, rp)
    login_link = links(client.get(link_path(created)).text)["use-kluis-wallet"]
    login_page = client.get(login_link)
    assert html.unescape(hidden_fields(login_page.text)["return_to"]) == link_path(created)

    make_resident(runtime, session, client)  # the login itself (tested elsewhere)
    back = client.get(link_path(created), follow_redirects=False)

    assert back.status_code == 303
    assert back.headers["location"] == f"/wallet/sessions/{created['session_id']}"
    assert status(client, rp, created)["status"] == "scanned"


def test_an_ended_or_foreign_request_gets_no_chooser(client: TestClient, rp: RP) -> None:
    created = start(client, rp)
    assert client.delete(f"/verifier/sessions/{created['session_id']}", auth=rp.basic()).is_success

    ended = client.get(link_path(created))
    foreign = client.get(
        "/verifier/open?client_id=x509_san_dns:evil.example&request_uri="
        "https://evil.example/verifier/request/abc"
    )

    assert ended.status_code == 410 and "open-in-app" not in ended.text
    assert foreign.status_code == 410 and "evil.example" not in foreign.text
