"""The steward's peer-vouching pages in a real Chromium against a real server, with data on
them: the open reports, one report with its decision form, the outcome of finding an account
fake (a resident loses `real_person`), and the graph's warning signs (a ring of seeds confirming
each other, a voucher at the quota, a newcomer confirming many). In Dutch and English, none may
scroll sideways at 320, 375 or 1280 px, and axe-core finds no serious issue. The operator's part
runs through `kluis vouching` on the same deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attestations import vouching
from identity import find_by_email
from service.runtime import Runtime, build_runtime
from service.settings import load_settings
from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, PageChecks, axe_script
from tests.support.server import LiveServer

PASSWORD = "een lang wachtwoord 42"
STEWARD = "beheer@example.org"
PEOPLE = ("jan", "piet", "klaas", "ring1", "ring2", "ring3", "nieuw1", "nieuw2")
LOCALES = {"nl": "nl-NL", "en": "en-GB"}

pytestmark = pytest.mark.browser
__all__ = ["axe_script"]  # the fixture, shared with the main browser test


def server_runtime(server: LiveServer) -> Runtime:
    settings = load_settings(
        data_dir=Path(server.env["KLUIS_DATA_DIR"]),
        database_url=server.env["KLUIS_DATABASE_URL"],
        issuer=server.env["KLUIS_ISSUER"],
    )
    return build_runtime(settings)


def build_graph(server: LiveServer) -> list[str]:
    """Seeds by the CLI, then confirmations and reports with the domain's acts on the server's
    database (the residents' pages are tested elsewhere). Returns the open report ids."""
    for who in PEOPLE:
        server.cli("accounts", "add", "--email", f"{who}@example.org", "--password", PASSWORD)
    for seed in ("jan", "piet", "ring1", "ring2", "ring3"):
        server.cli("vouching", "seeds", "add", f"{seed}@example.org")
    runtime = server_runtime(server)
    try:
        with runtime.db.transaction() as session:
            ids = {}
            for who in PEOPLE:
                account = find_by_email(runtime.accounts, session, f"{who}@example.org")
                assert account is not None
                ids[who] = account.id
        pairs = [("jan", "klaas"), ("piet", "klaas"), ("jan", "nieuw1"), ("jan", "nieuw2")]
        pairs += [("ring1", "ring2"), ("ring2", "ring3"), ("ring3", "ring1")]
        for voucher, vouchee in pairs:
            with runtime.db.transaction() as session:
                opened = vouching.open_request(
                    session, runtime.subject_keys, runtime.vouching, vouchee_id=ids[vouchee]
                )
                vouching.confirm(
                    session,
                    runtime.subject_keys,
                    runtime.vouching,
                    voucher_id=ids[voucher],
                    request_id=opened.id,
                )
        with runtime.db.transaction() as session:
            vouching.issue_peer_attestation(
                session, runtime.subject_keys, runtime.vouching, account_id=ids["klaas"]
            )
            reports = [
                vouching.report_fake(
                    session, runtime.subject_keys, reporter_id=ids[a], reported_id=ids[b]
                )
                for a, b in (("piet", "jan"), ("klaas", "jan"), ("klaas", "ring1"))
            ]
    finally:
        runtime.db.dispose()
    return reports


def test_steward_vouching_pages_fit_a_phone_in_both_languages(
    live_server: LiveServer, axe_script: str
) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    live_server.cli("accounts", "add", "--email", STEWARD, "--password", PASSWORD)
    live_server.cli("accounts", "steward", "grant", "--email", STEWARD)
    jan_report, _, ring_report = build_graph(live_server)
    listed = json.loads(live_server.cli("vouching", "reports", "--json").stdout)
    assert [line["reports"] for line in listed] == [2, 1]
    checks = PageChecks(axe_script, prefix="vouching-")
    base = live_server.url

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for lang, locale in LOCALES.items():
            page = browser.new_context(bypass_csp=True, locale=locale).new_page()
            page.goto(base + "/login")
            page.fill("#login-form input[name=email]", STEWARD)
            page.fill("#login-form input[name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_load_state()

            page.goto(base + "/steward/vouching")
            assert page.locator("tr[data-report]").count() == (2 if lang == "nl" else 1)
            checks.check(page, lang, "reports")
            page.goto(base + "/steward/vouching/graph")
            if lang == "nl":  # before a decision unwinds part of it
                assert page.locator("#clusters tr[data-size='3']").count() == 1
                assert page.locator("#near-quota tr[data-subject]").count() == 1
                assert page.locator("#newcomers tr[data-subject]").count() == 1
            checks.check(page, lang, "graph")

            target = jan_report if lang == "nl" else ring_report
            page.goto(f"{base}/steward/vouching/reports/{target}")
            checks.check(page, lang, "report")
            page.click("#decide-form button[type=submit]")  # no choice, no password: refused
            page.wait_for_selector(".error-summary")
            checks.check(page, lang, "report-refused")
            page.check("#decision-fake")
            page.fill("#decide-form input[name=password]", PASSWORD)
            page.click("#decide-form button[type=submit]")
            page.wait_for_selector("#decided")
            assert page.locator("#decided").get_attribute("data-fake") == "true"
            if lang == "nl":  # Jan vouched for Klaas, who had only Piet besides
                assert page.locator("[data-count=lapsed]").inner_text() == "1"
            checks.check(page, lang, "decided")
        browser.close()

    checks.assert_passed()
    assert json.loads(live_server.cli("vouching", "reports", "--json").stdout) == []
