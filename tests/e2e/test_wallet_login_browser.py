"""Login by QR in a real Chromium against a real server: the operator issues a credential with
`kluis attestations offer`, the spec-only test wallet (the "phone") collects it over
OpenID4VCI, the desktop page shows the QR code, the wallet presents over HTTP, and the page
finishes the login by itself (server-sent events) — once for a platform that requires
`acr=urn:kluis:acr:attested`, once from the login page to /account — and, with JavaScript
off, through the "continue" button. axe-core checks the pages."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, axe_script, axe_violations, platform
from tests.support.oidc import pkce_pair
from tests.support.qr import qr_codes_on
from tests.support.server import LiveServer
from tests.support.wallet import Wallet

__all__ = ["axe_script", "platform"]  # fixtures shared with test_browser

pytestmark = pytest.mark.browser

EMAIL = "qr.bewoner@example.org"
PASSWORD = "een lang en sterk wachtwoord"
ATTESTED = "urn:kluis:acr:attested"
WAIT_MS = 20_000


def provision(server: LiveServer, callback: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A resident with a `real_person` credential offer, and a platform."""
    server.cli("accounts", "add", "--email", EMAIL, "--password", PASSWORD, "--json")
    claims = json.dumps({"verification": "peer"})
    offer = json.loads(
        server.cli(
            "attestations", "offer", "--account", EMAIL, "--type", "real_person",
            "--claims", claims, "--json",
        ).stdout
    )  # fmt: skip
    client = json.loads(
        server.cli(
            "clients", "add", "--name", "Stemplatform", "--redirect-uri", callback,
            "--purpose", "Om mee te stemmen over het buurtbudget", "--json",
        ).stdout
    )  # fmt: skip
    return client, offer


def qr_payload_on(page: Any) -> str:
    """What the QR code on the page says (decoded from its pixels), checked against the
    page's universal link."""
    [barcode] = qr_codes_on(page)
    link = page.locator("a[href*='/verifier/open?']").get_attribute("href")
    assert barcode.text == "openid4vp://?" + urlsplit(link).query
    return str(barcode.text)


def test_login_by_qr_in_chromium_for_a_platform_and_for_the_account_page(
    live_server: LiveServer, axe_script: str, platform: tuple[str, list[str]]
) -> None:
    callback, callbacks = platform
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    client, offer = provision(live_server, callback)
    verifier, challenge = pkce_pair()
    authorize = live_server.url + "/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": callback,
            "scope": "openid",
            "state": "s-qr",
            "nonce": "n-qr",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "acr_values": ATTESTED,
        }
    )  # fmt: skip
    audits: dict[str, list[dict[str, Any]]] = {}

    with Wallet.over_http(live_server.url) as phone, sync_playwright() as pw:
        phone.accept(offer["offer_uri"], offer["tx_code"])
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        # 1. a platform requires an attested login: the login page opens in wallet mode
        context = browser.new_context(bypass_csp=True, locale="nl-NL")
        page = context.new_page()
        page.goto(authorize)
        assert "mode=wallet" in page.url
        audits["login (wallet mode)"] = axe_violations(page, axe_script)
        page.click("#wallet-login-form button[type=submit]")
        page.wait_for_selector("#wallet-login")
        audits["wallet login"] = axe_violations(page, axe_script)
        answer = phone.present(qr_payload_on(page))
        assert answer.status_code == 200, answer.text
        page.wait_for_url(callback + "*", timeout=WAIT_MS)  # no click: the page went on itself
        context.close()

        # 2. from the login page to the resident's own page
        context = browser.new_context(bypass_csp=True, locale="nl-NL")
        page = context.new_page()
        page.goto(live_server.url + "/login")
        page.click("#wallet-login-form button[type=submit]")
        page.wait_for_selector("#wallet-login")
        assert phone.present(qr_payload_on(page)).status_code == 200
        page.wait_for_url(live_server.url + "/account", timeout=WAIT_MS)
        assert page.locator("h1").inner_text() == "Mijn account"
        context.close()

        # 3. without JavaScript: the resident presses "continue" after scanning
        context = browser.new_context(bypass_csp=True, locale="en-GB", java_script_enabled=False)
        page = context.new_page()
        page.goto(live_server.url + "/login")
        page.click("#wallet-login-form button[type=submit]")
        page.wait_for_selector("#wallet-login")
        payload = qr_payload_on(page)
        page.click("#wallet-continue button[type=submit]")  # too early: not yet
        assert "has not answered yet" in page.locator("[role=alert]").inner_text()
        assert phone.present(payload).status_code == 200
        page.click("#wallet-continue button[type=submit]")
        page.wait_for_url(live_server.url + "/account", timeout=WAIT_MS)
        browser.close()

    [received] = callbacks
    query = {k: v[0] for k, v in parse_qs(urlsplit(received).query).items()}
    assert query["state"] == "s-qr" and query["iss"] == live_server.url
    token = httpx.post(
        live_server.url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": callback,
            "code_verifier": verifier,
        },
        auth=(client["client_id"], client["client_secret"]),
    )
    assert token.status_code == 200, token.text
    jwks = jwt.PyJWKSet.from_dict(httpx.get(live_server.url + "/jwks.json").json())
    id_token = token.json()["id_token"]
    kid = jwt.get_unverified_header(id_token)["kid"]
    claims = jwt.decode(
        id_token,
        next(k for k in jwks.keys if k.key_id == kid).key,
        algorithms=["RS256", "ES256"],
        audience=client["client_id"],
        issuer=live_server.url,
    )
    assert claims["acr"] == ATTESTED and claims["amr"] == ["pop"]
    for name, violations in audits.items():
        assert violations == [], f"{name}: {[(v['id'], v['impact']) for v in violations]}"
