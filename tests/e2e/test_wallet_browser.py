"""The built-in wallet in a real Chromium against a real server: a resident with a credential
in their Kluis wallet opens a platform's universal link, logs in, types the pairing code the
platform shows (read from the status API), sees exactly what is asked and approves; the
platform reads a result with `postcode_area` only. Then, in English, a refusal; and in both
languages the page for an attestation the resident does not hold. axe-core on every page."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest

from tests.e2e.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    axe_script,
    axe_violations,
    sideways_scroll,
)
from tests.support.live_kluis import add_client, add_resident
from tests.support.server import LiveServer

EMAIL, PASSWORD = "telefoon.bewoner@example.org", "een lang wachtwoord 42"
CLAIMS = {
    "postcode": "1087AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "registry",
}
PURPOSE = "Stemmen over het buurtbudget"

pytestmark = pytest.mark.browser
__all__ = ["axe_script"]  # the fixture, shared with the other browser test


class Platform:
    def __init__(self, server: LiveServer, client: dict[str, Any]) -> None:
        self.server, self.auth = server, (client["client_id"], client["client_secret"])
        self.client_id = client["client_id"]

    def start(self, vct: str = "postcode", claim: str = "postcode_area") -> dict[str, Any]:
        query = {
            "credentials": [
                {
                    "id": "residence",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [f"{self.server.url}/vct/{vct}"]},
                    "claims": [{"path": [claim]}],
                }
            ]
        }
        body = {"dcql_query": query, "purpose": PURPOSE}
        response = httpx.post(f"{self.server.url}/verifier/sessions", json=body, auth=self.auth)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def status(self, created: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(created["status_url"], auth=self.auth).json()
        return body

    def result(self, created: dict[str, Any]) -> dict[str, Any]:
        token = self.status(created)["result"]
        header = jwt.get_unverified_header(token)
        jwks = httpx.get(f"{self.server.url}/jwks.json").json()
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        claims: dict[str, Any] = jwt.decode(
            token, jwt.PyJWK(key).key, algorithms=["ES256"], audience=self.client_id
        )
        return claims


def test_resident_approves_and_refuses_in_the_built_in_wallet(
    live_server: LiveServer, axe_script: str
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    add_resident(live_server, EMAIL, PASSWORD)
    live_server.cli(
        "attestations",
        "offer",
        "--account",
        EMAIL,
        "--type",
        "postcode",
        "--claims",
        json.dumps(CLAIMS),
        "--to-wallet",
    )
    platform = Platform(
        live_server, add_client(live_server, "Buurtplatform Oost", "http://127.0.0.1:9/cb")
    )
    audits: dict[str, list[dict[str, Any]]] = {}
    overflow: dict[str, dict[int, int]] = {}

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(bypass_csp=True, locale="nl-NL")
        page = context.new_page()

        created = platform.start()
        page.goto(created["universal_link"])  # the phone's camera opens the link
        page.wait_for_selector("#open-choices")  # not logged in: a wallet app or Kluis?
        audits["open"] = axe_violations(page, axe_script)
        overflow["open"] = sideways_scroll(page, "wallet-" + "open")
        assert page.locator("#open-in-app").get_attribute("href") == created["qr_payload"]
        page.click("#use-kluis-wallet")
        assert "/login" in page.url
        page.fill("#login-form input[name=email]", EMAIL)
        page.fill("#login-form input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#pair-form")
        audits["pair"] = axe_violations(page, axe_script)
        overflow["pair"] = sideways_scroll(page, "wallet-" + "pair")
        code = platform.status(created)["pairing_code"]  # what the platform's screen shows

        page.fill("#pair-form input[name=code]", code)
        page.click("#pair-form button[type=submit]")
        page.wait_for_selector("#decision-form")
        audits["approve"] = axe_violations(page, axe_script)
        overflow["approve"] = sideways_scroll(page, "wallet-" + "approve")
        assert page.locator("#asked-claims li").count() == 1
        assert page.locator("#asked-claims li[data-claim=postcode_area]").count() == 1
        assert page.locator("#asked-claims .shared-value").inner_text() == "1087"  # shown first
        assert page.locator("#purpose").inner_text() == PURPOSE
        assert "Buurtplatform Oost" in page.content()
        page.click("button[name=decision][value=allow]")
        page.wait_for_load_state()
        audits["shared"] = axe_violations(page, axe_script)
        overflow["shared"] = sideways_scroll(page, "wallet-" + "shared")

        [entry] = platform.result(created)["credentials"]
        assert entry["claims"] == {"postcode_area": "1087"}

        page.goto(live_server.url + "/account")
        assert page.locator("#wallet [data-state=valid]").count() == 1
        audits["account"] = axe_violations(page, axe_script)
        overflow["account"] = sideways_scroll(page, "wallet-" + "account")
        _no_match(page, platform, "nl", axe_script, audits, overflow)

        # The same pages in English, ending in a refusal.
        page = browser.new_context(bypass_csp=True, locale="en-GB").new_page()
        refused = platform.start()
        page.goto(refused["universal_link"])
        page.wait_for_selector("#open-choices")
        audits["en-open"] = axe_violations(page, axe_script)
        overflow["en-open"] = sideways_scroll(page, "wallet-en-open")
        page.click("#use-kluis-wallet")
        page.fill("#login-form input[name=email]", EMAIL)
        page.fill("#login-form input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#pair-form")
        assert page.locator("html").get_attribute("lang") == "en"
        audits["en-pair"] = axe_violations(page, axe_script)
        overflow["en-pair"] = sideways_scroll(page, "wallet-en-pair")
        page.fill("#pair-form input[name=code]", platform.status(refused)["pairing_code"])
        page.click("#pair-form button[type=submit]")
        page.wait_for_selector("#decision-form")
        assert page.locator("#asked-claims .shared-value").inner_text() == "1087"
        audits["en-approve"] = axe_violations(page, axe_script)
        overflow["en-approve"] = sideways_scroll(page, "wallet-en-approve")
        page.click("button[name=decision][value=refuse]")
        page.wait_for_load_state()
        assert platform.status(refused) == {"status": "cancelled"}
        audits["en-refused"] = axe_violations(page, axe_script)
        overflow["en-refused"] = sideways_scroll(page, "wallet-en-refused")
        _no_match(page, platform, "en", axe_script, audits, overflow)
        browser.close()

    for name, violations in audits.items():
        assert violations == [], f"{name}: {[(v['id'], v['impact']) for v in violations]}"
    assert {name: px for name, px in overflow.items() if px} == {}, "pages scroll sideways"


def _no_match(
    page: Any,
    platform: Platform,
    lang: str,
    axe: str,
    audits: dict[str, list[dict[str, Any]]],
    overflow: dict[str, dict[int, int]],
) -> None:
    """A platform asks for an attestation the resident does not hold: the page says so, names
    what was asked, and lets them refuse."""
    asked = platform.start(vct="age", claim="age_over_18")
    page.goto(asked["universal_link"])
    page.wait_for_selector("#pair-form")
    page.fill("#pair-form input[name=code]", platform.status(asked)["pairing_code"])
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("#no-match")
    assert page.locator("html").get_attribute("lang") == lang
    assert "Buurtplatform Oost" in page.locator("#no-match").inner_text()
    audits[f"{lang}-no-match"] = axe_violations(page, axe)
    overflow[f"{lang}-no-match"] = sideways_scroll(page, f"wallet-{lang}-no-match")
    page.click("button[name=decision][value=refuse]")
    page.wait_for_load_state()
    assert platform.status(asked) == {"status": "cancelled"}
