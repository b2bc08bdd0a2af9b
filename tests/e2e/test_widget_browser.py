"""The verification widget in a real Chromium: a tiny platform (its own origin, its own strict
CSP, a local http.server) creates a session server-side and embeds the widget with a few lines
of HTML; the spec-only test wallet reads the QR code from the page's pixels and presents a
postcode credential; the page hears `kluis-verify:done` and asks its own server, which reads
the result from Kluis. In Dutch at 1280 px and in English at 375 px (a phone: the wallet link
comes first), and once in a browser without EventSource (long-polling). Then the built-in
wallet's pairing step through the widget; Kluis's hosted page `/verify/{id}`, which returns to
the platform; and the same page copied onto an origin the platform did not register, which
gets nothing. axe-core on every state, no sideways scrolling; screenshots with
KLUIS_SCREENSHOT_DIR."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, SERIOUS, axe_script, sideways_scroll
from tests.support.databases import drop_database, fresh_database_url
from tests.support.live_kluis import add_client, add_resident
from tests.support.qr import qr_codes_in
from tests.support.server import LiveServer, run_server
from tests.support.wallet import StoredCredential, Wallet

pytestmark = pytest.mark.browser
__all__ = ["axe_script"]  # the fixture, shared with the other browser tests

CLAIMS = {
    "postcode": "1087AB",
    "municipality": {"code": "GM0363", "name": "Amsterdam"},
    "residence_source": "letter",
}
EMAIL, PASSWORD = "widget.bewoner@example.org", "een lang wachtwoord 42"
WAIT_MS = 20_000
QR_ATTEMPTS = 20
CSP_REPORTS: dict[int, list[str]] = {}
TEXTS = {
    "nl": ("Stem mee over buurt 1087", "Laat eerst zien dat je in buurt 1087 woont."),
    "en": ("Vote on neighbourhood 1087", "First show that you live in neighbourhood 1087."),
}
PLATFORM_JS = b"""document.addEventListener("kluis-verify:done", function (event) {
  var detail = event.detail;
  document.documentElement.setAttribute("data-kluis-done", detail.state);
  fetch("/result?session=" + encodeURIComponent(detail.session))
    .then(function (response) { return response.text(); })
    .then(function (text) { document.getElementById("platform-result").textContent = text; });
});
"""


@dataclass
class Platform:
    """The platform's server: creates sessions with its client credentials, serves the page
    with the widget, and reads results from Kluis when its page asks (server to server)."""

    kluis: str
    origin: str = ""
    foreign_origin: str = ""  # the same page served from an origin not registered
    auth: tuple[str, str] = ("", "")
    client_id: str = ""
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    returned: list[str] = field(default_factory=list)

    def start(self, **extra: Any) -> dict[str, Any]:
        query = {
            "credentials": [
                {
                    "id": "residence",
                    "format": "dc+sd-jwt",
                    "meta": {"vct_values": [f"{self.kluis}/vct/postcode"]},
                    "claims": [{"path": ["postcode_area"]}],
                }
            ]
        }
        body = {"dcql_query": query, "purpose": "Stemmen over buurt 1087", **extra}
        response = httpx.post(f"{self.kluis}/verifier/sessions", json=body, auth=self.auth)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        self.sessions[created["session_id"]] = created
        return created

    def read_result(self, session_id: str) -> str:
        status = httpx.get(self.sessions[session_id]["status_url"], auth=self.auth).json()
        if status.get("result") is None:
            return f"status: {status['status']}"
        header = jwt.get_unverified_header(status["result"])
        jwks = httpx.get(f"{self.kluis}/jwks.json").json()
        key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
        claims: dict[str, Any] = jwt.decode(
            status["result"], jwt.PyJWK(key).key, algorithms=["ES256"], audience=self.client_id
        )
        self.results[session_id] = claims
        area = claims["credentials"][0]["claims"]["postcode_area"]
        return f"verified: postcode_area {area}"

    def csp(self) -> str:
        k = self.kluis
        return (
            f"default-src 'self'; script-src 'self' {k}; style-src 'self' {k}; img-src {k}; "
            f"connect-src 'self' {k}; object-src 'none'; base-uri 'none'"
        )

    def page(self, lang: str) -> bytes:
        created = self.start()
        title, intro = TEXTS[lang]
        return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Buurtplatform</title>
</head>
<body>
<main>
<h1>{title}</h1>
<p>{intro}</p>
<div data-kluis-session="{escape(created["session_id"])}"
     data-kluis-token="{escape(created["widget_token"])}"
     data-kluis-issuer="{escape(self.kluis)}"></div>
<p id="platform-result"></p>
</main>
<script src="{escape(self.kluis)}/widget/kluis-verify.js" defer></script>
<script src="/platform.js" defer></script>
</body>
</html>""".encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("widget")
    url = fresh_database_url(tmp)
    try:
        with run_server(tmp / "data", url) as live:
            yield live
    finally:
        drop_database(url)


@pytest.fixture(scope="module")
def platform(server: LiveServer) -> Iterator[Platform]:
    state = Platform(server.url)

    class Handler(http.server.BaseHTTPRequestHandler):
        def send(self, body: bytes, kind: str, **headers: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Security-Policy", state.csp())
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/page":
                self.send(state.page(query.get("lang", "nl")), "text/html; charset=utf-8")
            elif url.path == "/platform.js":
                self.send(PLATFORM_JS, "text/javascript")
            elif url.path == "/result":
                text = state.read_result(query["session"])
                self.send(text.encode(), "text/plain; charset=utf-8")
            elif url.path == "/back":
                state.returned.append(self.path)
                page = b'<!doctype html><html lang="en"><title>Back</title><main><h1>Back</h1>'
                self.send(page, "text/html; charset=utf-8")
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.origin = f"http://localhost:{httpd.server_address[1]}"  # not Kluis's origin
    client = add_client(server, "Buurtplatform", f"{state.origin}/callback")
    state.auth = (client["client_id"], client["client_secret"])
    state.client_id = client["client_id"]
    foreign = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.foreign_origin = f"http://localhost:{foreign.server_address[1]}"
    for served in (httpd, foreign):
        threading.Thread(target=served.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        for served in (httpd, foreign):
            served.shutdown()
            served.server_close()


@pytest.fixture(scope="module")
def credential(server: LiveServer) -> StoredCredential:
    add_resident(server, EMAIL, PASSWORD)
    offer = json.loads(
        server.cli(
            "attestations", "offer", "--account", EMAIL, "--type", "postcode",
            "--claims", json.dumps(CLAIMS), "--json",
        ).stdout
    )  # fmt: skip
    with Wallet.over_http(server.url) as wallet:
        [stored] = wallet.accept(offer["offer_uri"], offer["tx_code"])
    return stored


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def new_page(browser: Any, axe: str, lang: str, width: int) -> Any:
    """A page with the CSPs enforced (no bypass); axe-core comes in as an init script, which
    no page's CSP blocks."""
    phone = width < 600
    context = browser.new_context(
        locale="nl-NL" if lang == "nl" else "en-GB",
        viewport={"width": width, "height": 800},
        is_mobile=phone,
        has_touch=phone,
    )
    context.add_init_script(script=axe)
    page = context.new_page()
    CSP_REPORTS[id(page)] = reports = []
    page.on("console", lambda m: reports.append(m.text) if "Content Security" in m.text else None)
    return page


def csp_reports(page: Any) -> list[str]:
    """What the browser's console said about the pages' CSPs (nothing, when all is well)."""
    return CSP_REPORTS[id(page)]


def audit(page: Any, name: str) -> list[tuple[str, str, int]]:
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    return [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


def qr_payload_on(page: Any) -> str:
    """What the widget's QR code says, read from its pixels; it matches the wallet link."""
    image = page.locator("img.kv-qr")
    image.wait_for(state="visible")
    # no wait_for_function: it evaluates strings, which the platform's CSP forbids
    for _ in range(QR_ATTEMPTS):
        if image.evaluate("img => img.complete && img.naturalWidth > 0"):
            break
        page.wait_for_timeout(250)
    barcodes: list[Any] = []
    for _ in range(QR_ATTEMPTS):
        barcodes = qr_codes_in(image.screenshot())
        if barcodes:
            break
        page.wait_for_timeout(250)
    [barcode] = barcodes
    link = page.locator("a.kv-open").get_attribute("href")
    assert barcode.text == "openid4vp://?" + urlsplit(link).query
    return str(barcode.text)


@pytest.mark.parametrize(
    ("lang", "width", "events"),
    [("nl", 1280, True), ("en", 375, True), ("nl", 375, False)],
    ids=["nl-1280", "en-375", "nl-375-long-poll"],
)
def test_a_platform_page_on_another_origin_shows_the_widget_and_hears_done(
    server: LiveServer,
    platform: Platform,
    credential: StoredCredential,
    browser: Any,
    axe_script: str,
    lang: str,
    width: int,
    events: bool,
) -> None:
    page = new_page(browser, axe_script, lang, width)
    if not events:  # a browser (or a proxy) without server-sent events: long-polling
        page.add_init_script(script="delete window.EventSource;")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/widget/sessions/" in r.url else None)
    page.goto(f"{platform.origin}/page?lang={lang}")
    page.wait_for_selector(".kluis-verify[data-kluis-state=pending]")
    status = page.locator(".kluis-verify [role=status]")
    waiting = {"nl": "Wacht op je wallet…", "en": "Waiting for your wallet…"}[lang]
    assert status.inner_text() == waiting
    assert page.locator(".kluis-verify").get_attribute("lang") == lang
    alt = page.locator("img.kv-qr").get_attribute("alt")
    assert alt and ("QR" in alt)
    order = page.eval_on_selector_all(".kluis-verify > *", "nodes => nodes.map(n => n.className)")
    assert (order.index("kv-open-box") < order.index("kv-qr-box")) == (width < 600)
    problems = {"pending": audit(page, "pending")}
    overflow = {"pending": sideways_scroll(page, f"widget-{lang}-{width}-pending")}
    page.set_viewport_size({"width": width, "height": 800})

    with Wallet.over_http(server.url) as wallet:
        wallet.credentials.append(credential)
        answer = wallet.present(qr_payload_on(page), [("postcode_area",)])
    assert answer.status_code == 200, answer.text

    page.wait_for_selector("html[data-kluis-done=done]", timeout=WAIT_MS)
    page.locator("#platform-result:not(:empty)").wait_for(timeout=WAIT_MS)
    assert page.locator("#platform-result").inner_text() == "verified: postcode_area 1087"
    done = {"nl": "Gelukt: je wallet heeft geantwoord.", "en": "Done: your wallet has answered."}
    assert status.inner_text() == done[lang]
    assert page.locator("img.kv-qr").is_hidden()
    assert "1087" not in page.locator(".kluis-verify").inner_text()  # state only
    problems["done"] = audit(page, "done")
    overflow["done"] = sideways_scroll(page, f"widget-{lang}-{width}-done")
    assert csp_reports(page) == []
    assert {k: v for k, v in problems.items() if v} == {}
    assert {k: v for k, v in overflow.items() if v} == {}
    assert any("/events?" in url for url in asked) == events
    assert any("&wait=" in url for url in asked) == (not events)


def test_the_built_in_wallet_asks_for_the_code_the_widget_shows(
    server: LiveServer, platform: Platform, browser: Any, axe_script: str
) -> None:
    """The phone is a second browser, logged in at Kluis with a credential in its built-in
    wallet; it opens the widget's wallet link, and the resident types the code the platform's
    page shows."""
    email, password = "pairing.bewoner@example.org", PASSWORD
    add_resident(server, email, password)
    server.cli(
        "attestations", "offer", "--account", email, "--type", "postcode",
        "--claims", json.dumps(CLAIMS), "--to-wallet",
    )  # fmt: skip
    page = new_page(browser, axe_script, "nl", 1280)
    page.goto(f"{platform.origin}/page?lang=nl")
    page.wait_for_selector(".kluis-verify[data-kluis-state=pending]")
    link = page.locator("a.kv-open").get_attribute("href")

    phone = new_page(browser, axe_script, "nl", 375)
    phone.goto(link)
    phone.click("#use-kluis-wallet")
    phone.fill("#login-form input[name=email]", email)
    phone.fill("#login-form input[name=password]", password)
    phone.click("#login-form button[type=submit]")
    phone.wait_for_selector("#pair-form")

    page.wait_for_selector(".kluis-verify .kv-pairing:not([hidden])", timeout=WAIT_MS)
    code = page.locator(".kv-code").inner_text()
    assert len(code) == 4 and code.isdigit()
    assert code in page.locator(".kluis-verify [role=status]").inner_text()
    assert page.locator("img.kv-qr").is_hidden()
    problems = audit(page, "pairing")
    overflow = sideways_scroll(page, "widget-nl-pairing")

    phone.fill("#pair-form input[name=code]", code)
    phone.click("#pair-form button[type=submit]")
    phone.wait_for_selector("#decision-form")
    # typed: the code goes away (on PostgreSQL at once: the pairing notifies the session)
    page.locator(".kluis-verify .kv-pairing").wait_for(state="hidden", timeout=WAIT_MS)
    phone.click("button[name=decision][value=allow]")
    page.wait_for_selector("html[data-kluis-done=done]", timeout=WAIT_MS)
    page.locator("#platform-result:not(:empty)").wait_for(timeout=WAIT_MS)
    assert page.locator("#platform-result").inner_text() == "verified: postcode_area 1087"
    assert problems == [] and overflow == {}


def test_the_hosted_page_shows_the_session_and_returns_to_the_platform(
    server: LiveServer,
    platform: Platform,
    credential: StoredCredential,
    browser: Any,
    axe_script: str,
) -> None:
    created = platform.start(return_uri=f"{platform.origin}/back?from=kluis")
    page = new_page(browser, axe_script, "en", 375)
    page.goto(created["widget_url"] + "&lang=en")
    assert urlsplit(page.url).query == "lang=en"  # the token went into a cookie
    page.wait_for_selector(".kluis-verify[data-kluis-state=pending]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Buurtplatform asks you to prove something" in page.locator("main").inner_text()
    problems = {"hosted": audit(page, "hosted")}
    overflow = {"hosted": sideways_scroll(page, "widget-en-hosted")}
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(page.url.replace("lang=en", "lang=nl"))  # the language link keeps the session
    page.wait_for_selector(".kluis-verify[data-kluis-state=pending]")
    assert page.locator("html").get_attribute("lang") == "nl"
    problems["hosted-nl"] = audit(page, "hosted-nl")
    overflow["hosted-nl"] = sideways_scroll(page, "widget-nl-hosted")
    page.set_viewport_size({"width": 375, "height": 800})

    with Wallet.over_http(server.url) as wallet:
        wallet.credentials.append(credential)
        answer = wallet.present(qr_payload_on(page), [("postcode_area",)])
    assert answer.status_code == 200, answer.text
    page.wait_for_url(f"{platform.origin}/back?from=kluis", timeout=WAIT_MS)
    assert platform.returned == ["/back?from=kluis"]
    assert platform.read_result(created["session_id"]) == "verified: postcode_area 1087"
    assert csp_reports(page) == []
    assert {k: v for k, v in problems.items() if v} == {}
    assert {k: v for k, v in overflow.items() if v} == {}


def test_a_page_on_an_origin_the_platform_did_not_register_learns_nothing(
    platform: Platform, browser: Any, axe_script: str
) -> None:
    """Someone copies the platform's page, session and token onto their own site: Kluis
    refuses the state to that origin, so the widget has nothing to show but "unavailable"."""
    page = new_page(browser, axe_script, "en", 1280)
    failed: list[str] = []  # a CORS refusal reaches the page as a network error
    page.on("requestfailed", lambda r: failed.append(r.url) if "/widget/" in r.url else None)
    page.goto(f"{platform.foreign_origin}/page?lang=en")
    status = page.locator(".kluis-verify [role=status]")
    status.filter(has_text="cannot be fetched").wait_for(timeout=WAIT_MS)
    assert page.locator("img.kv-qr").get_attribute("src") is None
    assert page.locator(".kluis-verify").get_attribute("data-kluis-state") is None
    assert failed and all("/widget/sessions/" in url for url in failed)
    created = list(platform.sessions.values())[-1]  # the one the copied page shows
    refused = httpx.get(
        f"{platform.kluis}/widget/sessions/{created['session_id']}",
        params={"token": created["widget_token"]},
        headers={"Origin": platform.foreign_origin},
    )
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
