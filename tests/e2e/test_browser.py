"""A real Chromium (Debian's, driven by Playwright from PyPI) against a real server:
register → verify e-mail → login → consent → redirect → account page, with axe-core
accessibility checks."""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from adapters.mail import read_outbox
from tests.support.node import ensure_node_modules
from tests.support.oidc import pkce_pair
from tests.support.server import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_DIR = Path(__file__).resolve().parent / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERIOUS = {"serious", "critical"}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe_script() -> str:
    modules = ensure_node_modules(BROWSER_DIR)
    return (modules / "axe-core" / "axe.min.js").read_text()


def axe_violations(page: Any, axe_script: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=axe_script)
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    return [v for v in result["violations"] if v["impact"] in SERIOUS]


WIDTHS = (320, 375, 1280)
ENGLISH_PAGES = (
    "/",
    "/account",
    "/account/consents",
    "/account/delete",
    "/account/erase-field",
    "/steward/erasure",
    "/steward/consents",
    "/steward/audit",
    "/steward/vouching",
    "/steward/vouching/graph",
)
SHOTS = os.environ.get("KLUIS_SCREENSHOT_DIR")  # set it to look at the pages


def sideways_scroll(page: Any, name: str) -> dict[int, int]:
    """How far `page` scrolls sideways at each of WIDTHS (0 is right); with
    KLUIS_SCREENSHOT_DIR set, a screenshot at each width."""
    found = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found[width] = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    return {w: px for w, px in found.items() if px > 0}


@dataclasses.dataclass
class PageChecks:
    """What each page a browser test visits must pass, by the page's name: the `lang` it was
    asked in, axe-core without a serious issue, no sideways scrolling at WIDTHS."""

    axe_script: str
    prefix: str = ""
    audits: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    overflow: dict[str, dict[int, int]] = dataclasses.field(default_factory=dict)

    def check(self, page: Any, lang: str, name: str) -> None:
        assert page.locator("html").get_attribute("lang") == lang, name
        key = f"{lang}-{name}"
        self.audits[key] = axe_violations(page, self.axe_script)
        self.overflow[key] = sideways_scroll(page, self.prefix + key)

    def assert_passed(self) -> None:
        serious = {
            name: [(v["id"], v["impact"], len(v["nodes"])) for v in found]
            for name, found in self.audits.items()
            if found
        }
        assert serious == {}, json.dumps(serious, indent=1)
        assert {name: px for name, px in self.overflow.items() if px} == {}, "sideways scrolling"


@pytest.fixture
def platform() -> Iterator[tuple[str, list[str]]]:
    """The platform's callback: a real HTTP server on loopback recording what it receives."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/callback"):  # not the browser's /favicon.ico
                seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"platform callback")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback", seen
    finally:
        server.shutdown()
        server.server_close()


def test_register_login_consent_redirect_in_chromium(
    live_server: LiveServer, axe_script: str, platform: tuple[str, list[str]]
) -> None:
    callback, redirected = platform
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    client = json.loads(
        live_server.cli(
            "clients",
            "add",
            "--name",
            "Buurtplatform",
            "--redirect-uri",
            callback,
            "--purpose",
            "Om je te laten meepraten over je buurt",
            "--json",
        ).stdout
    )
    verifier, challenge = pkce_pair()
    authorize = (
        live_server.url
        + "/authorize?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": client["client_id"],
                "redirect_uri": callback,
                "scope": "openid email profile",
                "state": "s-123",
                "nonce": "n-123",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    email, password = "browser.bewoner@example.org", "een lang wachtwoord 42"
    overflow: dict[str, dict[int, int]] = {}
    audits: dict[str, list[dict[str, Any]]] = {}

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(bypass_csp=True, locale="nl-NL")
        page = context.new_page()

        page.goto(live_server.url + "/")
        assert page.locator("main a[href='/register']").count() == 1
        audits["home"] = axe_violations(page, axe_script)
        overflow["home"] = sideways_scroll(page, "home")
        page.goto(live_server.url + "/register")
        audits["register"] = axe_violations(page, axe_script)
        overflow["register"] = sideways_scroll(page, "register")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()

        outbox = Path(live_server.env["KLUIS_DATA_DIR"]) / "outbox"
        bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in read_outbox(outbox)]
        links = [m for b in bodies for m in re.findall(r"https?://\S+/verify-email\?\S+", b)]
        assert links, "no verification link in the outbox"
        page.goto(links[-1])

        page.goto(authorize)
        assert "/login" in page.url
        audits["login"] = axe_violations(page, axe_script)
        overflow["login"] = sideways_scroll(page, "login")
        page.fill("#login-form input[name=email]", email)
        page.fill("#login-form input[name=password]", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#consent-form")
        audits["consent"] = axe_violations(page, axe_script)
        overflow["consent"] = sideways_scroll(page, "consent")
        assert page.locator("html").get_attribute("lang") == "nl"
        page.check("input[name=claims][value=email]")
        page.click("button[name=decision][value=allow]")
        page.wait_for_url(callback + "*")

        claims = json.dumps({"birth_date": "1990-05-17"})
        offer = ["attestations", "offer", "--account", email, "--type", "age", "--claims", claims]
        live_server.cli(*offer)  # so the account page has a table to check
        page.goto(live_server.url + "/account")
        assert page.locator("h1").inner_text() == "Mijn account"
        assert page.locator("table tbody tr").count() == 1
        audits["account"] = axe_violations(page, axe_script)
        overflow["account"] = sideways_scroll(page, "account")
        page.goto(live_server.url + "/account/consents")
        assert page.locator("h1").inner_text() == "Mijn toestemmingen"
        assert page.locator("[data-claim=email][data-state=given]").count() == 1
        audits["consents"] = axe_violations(page, axe_script)
        overflow["consents"] = sideways_scroll(page, "consents")
        page.goto(live_server.url + "/account/delete")
        audits["delete"] = axe_violations(page, axe_script)
        overflow["delete"] = sideways_scroll(page, "delete")
        page.goto(live_server.url + "/account/erase-field")
        audits["erase-field"] = axe_violations(page, axe_script)
        overflow["erase-field"] = sideways_scroll(page, "erase-field")

        other = "andere.bewoner@example.org"
        live_server.cli("accounts", "add", "--email", other, "--password", password)
        live_server.cli("accounts", "delete", "--email", other, "--yes")  # a row to show
        live_server.cli("accounts", "steward", "grant", "--email", email)
        for view in ("erasure", "consents", "vouching", "vouching/graph", "audit"):
            page.goto(f"{live_server.url}/steward/{view}")
            assert page.locator("h1").inner_text() == "Gegevensbeheer"
            title = page.title()  # the page's own name first (WCAG 2.4.2)
            assert title.endswith(" · Gegevensbeheer · Kluis") and title.count("·") == 2
            current = page.locator("nav [aria-current=page]")
            assert current.count() == 1 and current.get_attribute("href") == f"/steward/{view}"
            name = "steward-" + view.replace("/", "-")
            audits[name] = axe_violations(page, axe_script)
            overflow[name] = sideways_scroll(page, name)
        assert page.locator("tr[data-event]").count() > 0
        page.fill("#event", "account.created")
        # as in a browser without a date picker, where a steward types the time
        page.evaluate("document.querySelector('#since').type = 'text'")
        page.fill("#since", "gisteren")
        page.click("#audit-filter button[type=submit]")
        page.wait_for_selector("#since-error")
        assert page.locator("#event").input_value() == "account.created"  # the other filter kept
        assert page.locator("#since").get_attribute("aria-invalid") == "true"
        audits["steward-audit-refused"] = axe_violations(page, axe_script)
        overflow["steward-audit-refused"] = sideways_scroll(page, "steward-audit-refused")

        # the same pages in English, with the same data
        for path in ENGLISH_PAGES:
            page.goto(f"{live_server.url}{path}?lang=en")
            assert page.locator("html").get_attribute("lang") == "en"
            name = "en" + path.replace("/", "-")
            audits[name] = axe_violations(page, axe_script)
            overflow[name] = sideways_scroll(page, name)
        browser.close()

    assert redirected, "the browser never reached the platform's callback"
    query = parse_qs(urlsplit(redirected[-1]).query)
    assert query["state"] == ["s-123"] and query["iss"] == [live_server.url] and query["code"]
    for name, violations in audits.items():
        assert violations == [], f"{name}: {[(v['id'], v['impact']) for v in violations]}"
    assert {name: px for name, px in overflow.items() if px} == {}, "pages scroll sideways"
    assert verifier  # the code is exchanged by the client-library tests
