"""The pages where attestations come from, in a real Chromium against a real server (with the
development broker and registry), in Dutch and in English: the account page's municipality
button and the offers it leads to, redeeming a letter's code, and the desk (its form, a refusal,
a refused house number, an offer, a new account). None may scroll sideways at 320, 375 or
1280 px, and axe-core finds no serious issue on any of them. With KLUIS_SCREENSHOT_DIR set,
each page is photographed."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, PageChecks, axe_script
from tests.support.live_kluis import add_resident
from tests.support.server import LiveServer, fresh_server

PASSWORD = "een lang wachtwoord 42"
OPERATOR = "balie@example.org"
RESIDENT = "bewoner@example.org"
LOCALES = {"nl": "nl-NL", "en": "en-GB"}

pytestmark = pytest.mark.browser
__all__ = ["axe_script"]  # the fixture, shared with the main browser test


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with fresh_server(tmp_path, KLUIS_MUNICIPALITY_DEVELOPMENT="true") as live:
        yield live


def letter_codes(server: LiveServer, tmp_path: Path) -> list[str]:
    addresses = tmp_path / "addresses.csv"
    addresses.write_text("postcode,huisnummer,toevoeging,buurtcode\n1087AB,1,,BU03630001\n" * 1)
    rows = "".join(f"1087AB,{n},,BU03630001\n" for n in range(2, 4))
    addresses.write_text(addresses.read_text() + rows)
    until = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    out = tmp_path / "letters"
    server.cli(
        "letters", "generate", "--input", str(addresses), "--municipality", "GM0363",
        "--municipality-name", "Amsterdam", "--valid-until", until, "--output", str(out),
    )  # fmt: skip
    with (out / "letters.csv").open(newline="") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


def test_the_pages_of_the_sources_fit_a_phone_in_both_languages(
    server: LiveServer, axe_script: str, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    add_resident(server, OPERATOR, PASSWORD)
    add_resident(server, RESIDENT, PASSWORD)
    server.cli("accounts", "desk", "grant", "--email", OPERATOR)
    codes = letter_codes(server, tmp_path)
    checks = PageChecks(axe_script, prefix="sources-")
    base = server.url

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for lang, locale in LOCALES.items():
            page = browser.new_context(bypass_csp=True, locale=locale).new_page()

            def check(name: str, *, lang: str = lang, page: Any = page) -> None:
                checks.check(page, lang, name)

            def log_in(email: str, *, page: Any = page) -> None:
                page.goto(base + "/login")
                page.fill("#login-form input[name=email]", email)
                page.fill("#login-form input[name=password]", PASSWORD)
                page.click("#login-form button[type=submit]")
                page.wait_for_url("**/account")

            log_in(RESIDENT)  # one resident: every development login is the same person
            check("account")
            page.click("form[action='/account/municipality'] button")
            page.wait_for_url("**/account/municipality/callback**")
            page.wait_for_load_state()
            cards = page.locator("section.card").count()
            assert cards == 2, page.inner_text("main")  # a postcode and an age offer
            check("municipality-offers")
            page.locator("section.card summary").first.click()  # the wallet-app details
            check("municipality-offers-open")

            page.goto(base + "/letters/redeem")
            check("letter-redeem")
            page.fill("input[name=code]", codes.pop())
            page.click("form[action='/letters/redeem'] button[type=submit]")
            page.wait_for_load_state()
            check("letter-offer")

            page.context.clear_cookies()
            log_in(OPERATOR)
            page.goto(base + "/desk")
            check("desk")
            page.fill("#postcode-resident", RESIDENT)
            page.fill("#postcode", "1087 AB")
            page.fill("#municipality_code", "GM0363")
            page.fill("#municipality_name", "Amsterdam")
            page.click("section[aria-labelledby=postcode-heading] button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("[aria-invalid=true]").count() >= 1  # the unticked document
            check("desk-refused")
            page.check("#postcode-document")
            page.fill("#house_number", "0")  # optional, for vouching: not a house number
            page.click("section[aria-labelledby=postcode-heading] button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#house_number[aria-invalid=true]").count() == 1
            check("desk-house-number-refused")
            page.check("#postcode-document")
            page.fill("#house_number", "12")
            page.fill("#house_addition", "a")
            page.click("section[aria-labelledby=postcode-heading] button[type=submit]")
            page.wait_for_load_state()
            check("desk-offer")
            page.goto(base + "/desk")
            page.fill("#name", "Mevrouw Zonder Mail")
            page.click("form[action='/desk/accounts'] button[type=submit]")
            page.wait_for_load_state()
            check("desk-account")
        browser.close()

    checks.assert_passed()
    assert len(checks.audits) == 2 * 10  # every page above, in both languages
