"""The resident pages the main browser journey does not reach, in a real Chromium against a real
server, in Dutch and in English: the "check your mail" and link-result pages, forgotten password
and reset, activation with a code (wrong, then right), login by QR, the logout confirmation, the
OpenID error page, the not-found page and the page after deleting the account. None may scroll
sideways at 320, 375 or 1280 px, and axe-core finds no serious issue on any of them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from adapters.mail import read_outbox
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, PageChecks, axe_script
from tests.support.server import LiveServer

PASSWORD, NEW_PASSWORD = "een lang wachtwoord 42", "een ander lang wachtwoord 43"
LOCALES = {"nl": "nl-NL", "en": "en-GB"}
NOT_FOUND = {"nl": "Deze pagina bestaat niet", "en": "This page does not exist"}

pytestmark = pytest.mark.browser
__all__ = ["axe_script"]  # the fixture, shared with the main browser test


def _last_link(server: LiveServer, path: str) -> str:
    outbox = Path(server.env["KLUIS_DATA_DIR"]) / "outbox"
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in read_outbox(outbox)]
    links = [link for b in bodies for link in re.findall(rf"https?://\S+{path}\?\S+", b)]
    assert links, f"no {path} link in the outbox"
    return links[-1]


def test_the_other_resident_pages_fit_a_phone_in_both_languages(
    live_server: LiveServer, axe_script: str
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    checks = PageChecks(axe_script)
    base = live_server.url

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for lang, locale in LOCALES.items():
            page = browser.new_context(bypass_csp=True, locale=locale).new_page()

            def check(name: str, *, lang: str = lang, page: Any = page) -> None:
                checks.check(page, lang, name)

            email = f"telefoon.{lang}@example.org"
            page.goto(base + "/register")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/register'] button[type=submit]")
            page.wait_for_selector("form[action='/register/resend']")
            check("register-sent")
            page.goto(_last_link(live_server, "/verify-email"))
            check("verified")

            page.goto(base + "/password/forgot")
            check("forgot")
            page.fill("input[name=email]", email)
            page.click("form[action='/password/forgot'] button[type=submit]")
            page.wait_for_load_state()
            check("forgot-sent")
            page.goto(_last_link(live_server, "/password/reset"))
            check("reset")
            page.fill("input[name=password]", NEW_PASSWORD)
            page.click("form[action='/password/reset'] button[type=submit]")
            page.wait_for_load_state()
            check("reset-done")

            waiting = f"wacht.{lang}@example.org"
            created = json.loads(
                live_server.cli("accounts", "add", "--email", waiting, "--json").stdout
            )
            page.goto(base + "/activate")
            check("activate")
            page.fill("input[name=code]", "ABCD-EFGH-JKLM")
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/activate'] button[type=submit]")
            page.wait_for_selector(".error-summary")
            check("activate-wrong")
            page.fill("input[name=code]", created["activation_code"])
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/activate'] button[type=submit]")
            page.wait_for_load_state()
            assert page.locator(".error-summary").count() == 0
            check("activated")

            page.goto(base + "/login")
            page.click("#wallet-login-form button[type=submit]")
            page.wait_for_selector("img, svg")
            check("login-by-qr")

            page.goto(base + "/authorize?client_id=onbekend&response_type=code")
            check("oidc-error")
            page.goto(base + "/bestaat-niet")
            assert NOT_FOUND[lang] in page.locator("[role=alert]").inner_text()
            check("not-found")

            page.goto(base + "/login")
            page.fill("#login-form input[name=email]", email)
            page.fill("#login-form input[name=password]", NEW_PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_url(base + "/account")
            page.goto(base + "/logout")
            page.wait_for_selector("#logout-form")
            check("logout-confirm")
            page.click("button[name=decision][value=stay]")
            page.wait_for_load_state()

            page.goto(base + "/account/delete")
            if page.locator("#delete-form input[name=password]").count():
                page.fill("#delete-form input[name=password]", NEW_PASSWORD)
            # Erasure shreds keys and queues notices: give a loaded machine time.
            with page.expect_navigation(url=re.compile(r".*/account/deleted.*"), timeout=60_000):
                page.click("#delete-form button[type=submit]")
            check("deleted")
        browser.close()

    checks.assert_passed()
