"""'Haal mijn gegevens op bij de gemeente' end to end: a real `kluis serve`, a real DigiD-like
broker (node oidc-provider whose accounts carry a `bsn` claim) and a local registry that answers
as the Haal Centraal BRP API and checks every request against the official contract. A resident
logs in at Kluis, goes to the broker, comes back with offers for a postcode and an age
attestation, keeps them in the built-in wallet; a second Kluis account of the same person is
refused; afterwards no BSN, birth date, street, house number or postcode is readable in the
database file or the logs."""

from __future__ import annotations

import contextlib
import html
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from attestations.sdjwt import HeldSdJwt
from tests.support import forms
from tests.support.brp_people import BSN, person
from tests.support.brp_server import LocalRegistry, run_registry
from tests.support.databases import backend, drop_database, fresh_database_url
from tests.support.live_kluis import add_resident
from tests.support.oidc_provider import run_oidc_provider
from tests.support.qr import qr_codes_in
from tests.support.server import LiveServer, free_port, run_server
from tests.support.wallet import Wallet

pytestmark = pytest.mark.e2e

CLIENT_ID = "kluis-gemeente"
SECRET = "broker-client-secret-for-kluis-0123456789abcdef"
API_KEY = "registry-api-key-0123456789"
PASSWORD = "een lang en sterk wachtwoord"
BROKER_PASSWORD = "digid wachtwoord van de test"
QR_SRC = re.compile(r'class="qr" src="([^"]+)"')
TX_CODE = re.compile(r'class="code">(\d+)<')
PERSONAL = ("999993653", "1990-05-17", "17 mei 1990", "Spui", "1087AB", "1087 AB", "Jansen")
# the house number the registry gives (huisnummer 70, huisletter b, toevoeging 2), as Kluis
# would write it if it kept it: in the hashed text of the address, or as the registry's JSON
# ("70b2" would also match a lower-case hexadecimal hash by chance)
HOUSE_NUMBER = ("1087AB 70", "70 B2", "70B2", '"huisnummer": 70', '"huisnummer":70')


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("municipality")
    port = free_port()
    callback = f"http://127.0.0.1:{port}/account/municipality/callback"
    clients = [{"client_id": CLIENT_ID, "client_secret": SECRET, "redirect_uris": [callback]}]
    accounts = [
        {"email": f"digid{n}@example.org", "password": BROKER_PASSWORD, "claims": {"bsn": BSN}}
        for n in range(3)
    ]
    url = fresh_database_url(work)
    try:
        with (
            run_oidc_provider(work / "broker", clients=clients, accounts=accounts) as broker,
            run_registry({BSN: person()}) as registry,
            run_server(
                work / "data",
                url,
                port=port,
                KLUIS_UPSTREAM_ISSUER=broker.issuer,
                KLUIS_UPSTREAM_CLIENT_ID=CLIENT_ID,
                KLUIS_UPSTREAM_CLIENT_SECRET=SECRET,
                KLUIS_BRP_URL=registry.url,
                KLUIS_BRP_API_KEY=API_KEY,
            ) as kluis,
        ):
            yield {"kluis": kluis, "broker": broker, "registry": registry, "db": url}
    finally:
        drop_database(url)


def logged_in(kluis: LiveServer, email: str) -> httpx.Client:
    add_resident(kluis, email, PASSWORD)
    browser = httpx.Client(base_url=kluis.url, timeout=30)
    submission = forms.prepared(
        browser, kluis.url + "/login", {"email": email, "password": PASSWORD}
    )
    assert forms.send(browser, submission).status_code == 303
    return browser


def via_the_broker(browser: httpx.Client, kluis: LiveServer, digid_account: str) -> httpx.Response:
    """Press the button, log in at the broker, come back to Kluis's callback."""
    account = browser.get("/account")
    assert "/account/municipality" in account.text
    [start] = [
        form
        for form in forms.parse_forms(account.text, str(account.url))
        if form.action.endswith("/account/municipality")
    ]
    started = forms.send(browser, forms.Submission("POST", start.action, start.hidden()))
    assert started.status_code == 303, started.text
    done = forms.authorize(
        browser,
        started.headers["location"],
        redirect_uri=kluis.url + "/account/municipality/callback",
        email=digid_account,
        password=BROKER_PASSWORD,
    )
    return browser.get(str(done.callback_url))


def test_a_resident_gets_registry_attestations_and_a_second_account_is_refused(
    world: dict[str, Any],
) -> None:
    kluis: LiveServer = world["kluis"]
    registry: LocalRegistry = world["registry"]
    with contextlib.closing(logged_in(kluis, "eerste.bewoner@example.org")) as browser:
        page = via_the_broker(browser, kluis, "digid0@example.org")
        assert page.status_code == 200, page.text
        assert registry.violations == []
        assert len(registry.fake.bodies) == 1 and registry.api_keys == [API_KEY]
        assert registry.fake.bodies[0]["fields"] == [
            "verblijfplaats.type",
            "verblijfplaats.verblijfadres.postcode",
            "verblijfplaats.verblijfadres.huisnummer",
            "verblijfplaats.verblijfadres.huisletter",
            "verblijfplaats.verblijfadres.huisnummertoevoeging",
            "gemeenteVanInschrijving",
            "geboorte.datum",
        ]
        # the age proof goes into a wallet app written from the specification: it scans the
        # card's QR code and types the code shown beside it
        age_card = page.text.split('<section class="card"')[1]
        assert "Leeftijdsbewijs" in age_card
        qr_png = browser.get(html.unescape(QR_SRC.search(age_card)[1]).replace(".svg", ".png"))
        [scanned] = qr_codes_in(qr_png.content)
        tx_code = TX_CODE.search(age_card)[1]
        with Wallet.over_http(kluis.url) as app:
            [stored] = app.accept(scanned.text, tx_code)
        age = HeldSdJwt.parse(stored.credential).claims
        assert age["age_over_18"] is True and "birth_date" not in age
        # the postcode proof stays in the built-in wallet
        keep = [
            form
            for form in forms.parse_forms(page.text, str(page.url))
            if form.action.endswith("/account/wallet/keep")
        ]
        assert len(keep) == 2
        kept = forms.send(browser, forms.Submission("POST", keep[1].action, keep[1].hidden()))
        assert kept.headers["location"].endswith("/account?wallet=kept#wallet")
        wallet = browser.get("/account").text
        assert "Woonplaatsbewijs" in wallet and "Leeftijdsbewijs" in wallet

    with contextlib.closing(logged_in(kluis, "tweede.account@example.org")) as browser:
        refused = via_the_broker(browser, kluis, "digid1@example.org")
        assert refused.status_code == 409
        assert "al een ander account" in refused.text
        assert "eerste" not in refused.text
    assert len(registry.fake.bodies) == 1  # a refused person is not looked up again

    traces = list(readable_traces(world, kluis))
    # the scan reads the database and the server log, which hold what happened ...
    assert any(where.endswith(".log") for where, _ in traces)
    assert any("registry.consulted" in text for _, text in traces)
    # ... and none of what the broker and the registry told Kluis about the resident
    needles = PERSONAL + HOUSE_NUMBER
    leaks = [(where, value) for where, text in traces for value in needles if value in text]
    assert leaks == []


def readable_traces(world: dict[str, Any], kluis: LiveServer) -> Iterator[tuple[str, str]]:
    """What someone with the server's disk could read: its logs, and the database."""
    data = Path(kluis.env["KLUIS_DATA_DIR"])
    for path in data.rglob("*.log"):
        yield str(path), path.read_text(errors="replace")
    if backend() == "sqlite":
        for path in data.parent.rglob("*.sqlite3*"):
            yield str(path), path.read_bytes().decode("latin-1")
    else:  # a plain-text dump of this deployment's schema: every row as it is stored
        parsed = make_url(world["db"])
        options = parsed.query["options"]
        assert isinstance(options, str)
        schema = options.removeprefix("-csearch_path=")  # not the other tests' schemas
        url = world["db"].replace("postgresql+psycopg://", "postgresql://")
        dump = subprocess.run(
            ["pg_dump", "--data-only", "--schema", schema, "--dbname", url],
            capture_output=True,
            check=True,
            timeout=60,
        )
        yield "pg_dump", dump.stdout.decode("latin-1")
