"""The operator console's main journey (#16) in a real Chromium against a real server, in
Dutch and in English: log in as an operator, add a platform with the Nextcloud preset, read the
settings to type on the platform's side and the secret shown once, rotate the secret (password
again), look at the outbox's health and the erasure requests, rotate a signing key (password
again), and remove the platform (password again). No page may scroll sideways at 320, 375 or
1280 px, and axe-core finds no serious issue on any of them. With KLUIS_SCREENSHOT_DIR set,
each page is photographed at each width."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, PageChecks, axe_script
from tests.support.live_kluis import add_resident
from tests.support.server import LiveServer, fresh_server

PASSWORD = "een lang wachtwoord 42"
OPERATOR = "beheer@example.org"
LOCALES = {"nl": "nl-NL", "en": "en-GB"}

pytestmark = pytest.mark.browser
__all__ = ["axe_script"]  # the fixture, shared with the main browser test


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with fresh_server(tmp_path) as live:
        yield live


def test_an_operator_adds_rotates_and_removes_a_platform_in_both_languages(
    server: LiveServer, axe_script: str
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    add_resident(server, OPERATOR, PASSWORD)
    server.cli("accounts", "operator", "grant", "--email", OPERATOR)
    add_resident(server, "weg@example.org", PASSWORD)
    server.cli("accounts", "delete", "--email", "weg@example.org", "--yes")  # a request to list
    checks = PageChecks(axe_script, prefix="console-")
    base = server.url

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for lang, locale in LOCALES.items():
            page = browser.new_context(bypass_csp=True, locale=locale).new_page()

            def check(name: str, *, lang: str = lang, page: Any = page) -> None:
                checks.check(page, lang, name)

            page.goto(base + "/console")
            page.wait_for_url("**/login?**")
            page.fill("#login-form input[name=email]", OPERATOR)
            page.fill("#login-form input[name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_url("**/console/platforms")
            check("platforms-empty" if lang == "nl" else "platforms")

            page.click("#add-form button[type=submit]")  # nothing chosen
            page.wait_for_load_state()
            assert page.locator("[aria-invalid=true]").count() == 2
            check("add-refused")

            page.select_option("#preset", "nextcloud")
            page.fill("#base_url", f"https://wolk-{lang}.example.org")
            page.fill("#name", f"Buurtwolk {lang}")
            page.click("#add-form button[type=submit]")
            page.wait_for_load_state()
            secret = page.inner_text("#client-secret")
            assert secret in page.inner_text("#instructions")  # the occ command carries it
            install = {"nl": "Installeer de app", "en": "Install the app"}[lang]
            assert page.inner_text("#instructions").startswith(install)  # the page's language
            client_id = page.inner_text("#client-id")
            check("added")

            page.goto(f"{base}/console/platforms")
            assert page.locator(f"tr[data-client='{client_id}']").count() == 1
            assert secret not in page.content()
            check("platforms-listed")

            page.click(f"tr[data-client='{client_id}'] a")
            page.wait_for_url(f"**/console/platforms/{client_id}")
            check("platform")
            page.click("#rotate-link")
            page.fill("#password", "niet het wachtwoord")
            page.click("#rotate-form button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#password[aria-invalid=true]").count() == 1
            check("rotate-refused")
            page.fill("#password", PASSWORD)
            page.click("#rotate-form button[type=submit]")
            page.wait_for_load_state()
            rotated = page.inner_text("#client-secret")
            assert rotated and rotated != secret
            check("rotated")

            page.click(".console-nav a[href='/console/outbox']")
            page.wait_for_url("**/console/outbox")
            check("outbox")
            page.click(".console-nav a[href='/console/erasure']")
            page.wait_for_url("**/console/erasure")
            assert page.locator("tr[data-request]").count() == 1
            check("erasure")
            page.click("tr[data-request] a")
            page.wait_for_load_state()
            check("erasure-request")
            page.click(".console-nav a[href='/console/keys']")
            page.wait_for_url("**/console/keys")
            published = page.locator("tr[data-state=published]").count()
            check("keys")
            page.check("#alg-ES256")
            page.fill("#password", "niet het wachtwoord")
            page.click("#rotate-key-form button[type=submit]")
            page.wait_for_load_state()
            assert page.is_checked("#alg-ES256")  # a retry rotates the key that was chosen
            page.fill("#password", PASSWORD)
            page.click("#rotate-key-form button[type=submit]")
            page.wait_for_url("**/console/keys?done=rotated")
            assert page.locator("tr[data-state=published]").count() == published + 1
            check("keys-rotated")

            page.goto(f"{base}/console/platforms/{client_id}/remove")
            check("remove")
            page.fill("#password", PASSWORD)
            page.click("#remove-form button[type=submit]")
            page.wait_for_url("**/console/platforms?done=removed")
            assert page.locator(f"tr[data-client='{client_id}']").count() == 0
            check("removed")
        browser.close()

    checks.assert_passed()
    assert len(checks.audits) == 2 * 14  # every page above, in both languages
    exported = server.cli("audit", "export").stdout.splitlines()
    events = [json.loads(line)["entry"]["event"] for line in exported]
    changes = [e for e in events if e.startswith("client.")]
    assert changes == ["client.added", "client.secret_rotated", "client.removed"] * 2
    assert events.count("key.rotated") == 2


RESIDENT = "klaas@example.org"


def test_an_operator_manages_accounts_attestations_and_a_platform_in_both_languages(
    server: LiveServer, axe_script: str
) -> None:
    """Find an account by its exact address (not a partial one), change its roles, offer an
    attestation (refused first, then offered), revoke one, disable and re-enable the account,
    create an account for someone without e-mail, and edit a platform (a bad address named
    beside its field, then saved); each change with the password again."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    add_resident(server, OPERATOR, PASSWORD)
    server.cli("accounts", "operator", "grant", "--email", OPERATOR)
    add_resident(server, RESIDENT, PASSWORD)
    age = json.dumps({"birth_date": "1990-05-17"})
    for _ in LOCALES:  # one attestation to revoke in each language
        server.cli(
            "attestations",
            "offer",
            "--account",
            RESIDENT,
            "--type",
            "age",
            "--claims",
            age,
            "--to-wallet",
        )
    platform = json.loads(
        server.cli(
            "clients",
            "add",
            "--preset",
            "nextcloud",
            "--base-url",
            "https://wolk.example.org",
            "--json",
        ).stdout
    )["client_id"]
    checks = PageChecks(axe_script, prefix="console-")
    base = server.url

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for lang, locale in LOCALES.items():
            page = browser.new_context(bypass_csp=True, locale=locale).new_page()

            def check(name: str, *, lang: str = lang, page: Any = page) -> None:
                checks.check(page, lang, name)

            def confirm(form: str, *, page: Any = page) -> None:
                page.fill("#password", PASSWORD)
                page.click(f"#{form} button[type=submit]")
                page.wait_for_load_state()

            page.goto(base + "/console/accounts")
            page.wait_for_url("**/login?**")
            page.fill("#login-form input[name=email]", OPERATOR)
            page.fill("#login-form input[name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_url("**/console/accounts")
            check("accounts")

            page.fill("#identifier", "klaas@example")  # not exact: not found
            page.click("#find-form button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#identifier[aria-invalid=true]").count() == 1
            check("accounts-not-found")
            page.fill("#identifier", RESIDENT)
            page.click("#find-form button[type=submit]")
            page.wait_for_url("**/console/accounts/*")
            account_url = page.url
            assert RESIDENT not in page.content()  # no personal data on the page
            check("account")

            page.click("#roles-link")
            page.set_checked("#role-steward", lang == "nl")  # granted, then revoked
            check("roles")
            confirm("roles-form")
            page.wait_for_url("**?done=roles")
            held = page.inner_text("#account-roles")
            assert ("data-steward" in held) == (lang == "nl")

            page.click("#offer-link")
            page.check("#type-postcode")
            page.fill("#postcode", "1087 AB")
            page.click("#offer-form button[type=submit]")  # no municipality, no source
            page.wait_for_load_state()
            assert page.locator("#municipality_code[aria-invalid=true]").count() == 1
            assert page.input_value("#postcode") == "1087 AB"  # nothing typed is lost
            check("offer-refused")
            page.check("#type-real_person")
            page.select_option("#verification", "desk")
            confirm("offer-form")
            assert page.locator("#tx-code").count() == 1
            check("offered")

            page.goto(account_url)
            page.locator("tr[data-state=valid] a").first.click()
            page.wait_for_url("**/revoke")
            check("revoke")
            confirm("revoke-form")
            page.wait_for_url("**?done=revoked")
            check("account-revoked")

            page.click("#disable-link")
            check("disable")
            confirm("disable-form")
            page.wait_for_url("**?done=disabled")
            assert page.locator("#account[data-status=disabled]").count() == 1
            check("account-disabled")
            page.click("#enable-link")
            confirm("enable-form")
            page.wait_for_url("**?done=enabled")
            assert page.locator("#account[data-status=active]").count() == 1

            page.click(".console-nav a[href='/console/accounts']")
            page.fill("#name", f"Mien {lang}")
            page.click("#desk-form button[type=submit]")
            page.wait_for_load_state()
            assert page.inner_text("#activation-code")
            check("desk-account")

            page.goto(f"{base}/console/platforms/{platform}")
            page.click("#edit-link")
            page.wait_for_url("**/edit")
            check("platform-edit")
            page.fill("#events_uri", "http://elders.example.org/events")
            page.fill("#name", f"Buurtwolk {lang}")
            page.click("#edit-form button[type=submit]")
            page.wait_for_load_state()
            assert page.locator("#events_uri[aria-invalid=true]").count() == 1
            assert page.input_value("#name") == f"Buurtwolk {lang}"
            check("platform-edit-refused")
            page.fill("#events_uri", "https://wolk.example.org/kluis/events")
            confirm("edit-form")
            page.wait_for_url("**?done=updated")
            assert f"Buurtwolk {lang}" in page.inner_text("h1")
            check("platform-edited")
        browser.close()

    checks.assert_passed()
    assert len(checks.audits) == 2 * 14  # every page above, in both languages
    exported = server.cli("audit", "export").stdout
    assert RESIDENT not in exported and "Mien" not in exported
    events = [json.loads(line)["entry"]["event"] for line in exported.splitlines()]
    for event, times in {
        "account.role_granted": 2,  # the operator by the CLI, the steward role in Dutch
        "account.role_revoked": 1,
        "attestation.revoked": 2,
        "account.disabled": 2,
        "account.enabled": 2,
        "client.updated": 2,
    }.items():
        assert events.count(event) == times, event
