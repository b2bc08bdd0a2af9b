"""Login by QR with the built-in Kluis wallet in two real Chromium contexts against a real
server: the "phone" is logged in to Kluis and holds a credential in the Kluis wallet (issued by
`kluis attestations offer --to-wallet`); it opens the desktop's universal link, the desktop page
shows the pairing code (server-sent events, by itself), the phone types it and approves, and
the desktop goes on to /account by itself. axe-core checks the pages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, axe_script, axe_violations
from tests.support.pages import shows
from tests.support.server import LiveServer

__all__ = ["axe_script"]  # fixture shared with test_browser

pytestmark = pytest.mark.browser

EMAIL = "telefoon.bewoner@example.org"
PASSWORD = "een lang en sterk wachtwoord"
WAIT_MS = 20_000


def test_the_kluis_wallet_on_the_phone_logs_in_the_desktop_with_the_code_it_shows(
    live_server: LiveServer, axe_script: str
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    live_server.cli("accounts", "add", "--email", EMAIL, "--password", PASSWORD, "--json")
    live_server.cli(
        "attestations", "offer", "--account", EMAIL, "--type", "real_person",
        "--claims", json.dumps({"verification": "peer"}), "--to-wallet", "--json",
    )  # fmt: skip
    audits: dict[str, list[dict[str, Any]]] = {}

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        phone = browser.new_context(bypass_csp=True, locale="nl-NL").new_page()
        phone.goto(live_server.url + "/login")
        phone.fill("#login-form input[name=email]", EMAIL)
        phone.fill("#login-form input[name=password]", PASSWORD)
        phone.click("#login-form button[type=submit]")
        phone.wait_for_url(live_server.url + "/account")

        desktop = browser.new_context(bypass_csp=True, locale="nl-NL").new_page()
        desktop.goto(live_server.url + "/login")
        desktop.click("#wallet-login-form button[type=submit]")
        desktop.wait_for_selector("#wallet-login")
        assert desktop.locator("#wallet-pairing").is_hidden()
        link = desktop.locator("a[href*='/verifier/open?']").get_attribute("href")
        assert link is not None

        phone.goto(link)  # the phone's camera opens the universal link
        phone.wait_for_selector("#pair-form")
        desktop.wait_for_selector("#wallet-pairing", state="visible", timeout=WAIT_MS)
        code = desktop.locator("#pairing-code").inner_text()
        assert len(code) == 4 and code.isdigit()
        assert not shows(phone.content(), code)  # the phone never shows it
        audits["desktop with code"] = axe_violations(desktop, axe_script)

        phone.fill("#pair-form input[name=code]", code)
        phone.click("#pair-form button[type=submit]")
        phone.wait_for_selector("#login-notice")
        audits["phone approve login"] = axe_violations(phone, axe_script)
        phone.click("button[name=decision][value=allow]")

        desktop.wait_for_url(live_server.url + "/account", timeout=WAIT_MS)  # by itself
        assert desktop.locator("h1").inner_text() == "Mijn account"
        browser.close()

    for name, violations in audits.items():
        assert violations == [], f"{name}: {[(v['id'], v['impact']) for v in violations]}"
