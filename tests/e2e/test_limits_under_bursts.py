"""Limits on guessable secrets (passwords, activation codes, transaction codes, letter codes)
hold exactly under bursts spread over two app processes (#15 defect 3). Checked first and
counted afterwards, 50 concurrent wrong passwords for one account got 11-19 evaluated at a
limit of 5 on PostgreSQL, and 50 wrong tx_codes 13-14. (SQLite serialises its writers, so
there the same test shows the limits exact by design.)"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from attestations.letters.codes import new_code
from attestations.letters.config import ATTEMPTS_PER_ACCOUNT
from tests.support import forms
from tests.support.databases import drop_database, fresh_database_url
from tests.support.live_kluis import add_resident
from tests.support.server import LiveServer, run_server
from tests.support.wallet import PRE_AUTH_GRANT

BURST = 50
EMAIL = "burst.bewoner@example.org"
PASSWORD = "een lang en sterk wachtwoord"
PER_ACCOUNT = 5
PER_IP = 20  # the default, shared by logins and typed activation codes
TX_ATTEMPTS = 5
LETTER_EMAIL = "brief.bewoner@example.org"
LETTER_ATTEMPTS = ATTEMPTS_PER_ACCOUNT


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two app processes of one deployment with one resident. The tests use separate limits
    (the account's, typed codes per address, one offer's), so they can share them."""
    work = tmp_path_factory.mktemp("bursts")
    url = fresh_database_url(work)
    data = work / "data"
    try:
        with run_server(data, url) as first, run_server(data, url, log_name="second.log") as second:
            add_resident(first, EMAIL, PASSWORD)
            yield first, second
    finally:
        drop_database(url)


def burst(
    servers: tuple[LiveServer, LiveServer], prepare: Callable[[str], Callable[[], str]]
) -> Counter[str]:
    """Prepare BURST attempts (alternating between the servers), release them at once, and
    count their outcomes."""
    attempts = [prepare(servers[n % 2].url) for n in range(BURST)]
    start = threading.Barrier(BURST)

    def run(attempt: Callable[[], str]) -> str:
        start.wait()
        return attempt()

    with ThreadPoolExecutor(BURST) as pool:
        return Counter(pool.map(run, attempts))


def form_attempt(base: str, page: str, fields: dict[str, str]) -> Callable[[], str]:
    """A browser that has the page (and so its CSRF cookie and token) and will submit it. The
    submission opens its own connection: preparing 50 attempts on a loaded machine can take
    longer than the server keeps an idle connection open (uvicorn: 5 s), and a POST sent on
    a connection the server is closing meets a reset instead of an answer."""
    with httpx.Client(timeout=60) as loader:
        submission = forms.prepared(loader, base + page, fields)
        cookies = httpx.Cookies(loader.cookies)

    def attempt() -> str:
        with httpx.Client(timeout=60, cookies=cookies) as http:
            return str(forms.send(http, submission).status_code)

    return attempt


def test_fifty_wrong_passwords_at_once_get_exactly_the_limit_evaluated(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    first, _ = servers
    outcomes = burst(
        servers,
        lambda base: form_attempt(base, "/login", {"email": EMAIL, "password": "fout wachtwoord"}),
    )
    assert outcomes == {"400": PER_ACCOUNT, "429": BURST - PER_ACCOUNT}
    # and the right password is refused too, until the window has passed
    assert form_attempt(first.url, "/login", {"email": EMAIL, "password": PASSWORD})() == "429"
    failed = [
        line
        for line in first.cli("audit", "export").stdout.splitlines()
        if '"login.failed"' in line
    ]
    assert len(failed) == PER_ACCOUNT


def test_fifty_wrong_letter_codes_at_once_get_exactly_the_limit_evaluated(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    """One account types 50 wrong letter codes at once, on both processes: exactly the
    account's limit is evaluated (attestations.letters.config.ATTEMPTS_PER_ACCOUNT)."""
    first, _ = servers
    add_resident(first, LETTER_EMAIL, PASSWORD)
    wrong = [new_code() for _ in range(BURST)]

    def prepare(base: str) -> Callable[[], str]:
        with httpx.Client(timeout=60) as loader:
            login = forms.prepared(
                loader, base + "/login", {"email": LETTER_EMAIL, "password": PASSWORD}
            )
            assert forms.send(loader, login).status_code == 303
            submission = forms.prepared(loader, base + "/letters/redeem", {"code": wrong.pop()})
            cookies = httpx.Cookies(loader.cookies)

        def attempt() -> str:
            with httpx.Client(timeout=60, cookies=cookies) as http:
                return str(forms.send(http, submission).status_code)

        return attempt

    outcomes = burst(servers, prepare)
    # an unknown code is a 404 (UnknownLetterCode); every attempt past the limit a 429
    assert outcomes == {"404": LETTER_ATTEMPTS, "429": BURST - LETTER_ATTEMPTS}


def test_fifty_wrong_activation_codes_at_once_get_exactly_the_limit_evaluated(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    outcomes = burst(
        servers,
        lambda base: form_attempt(
            base, "/activate", {"code": "ABCD-EFGH-JKMN", "password": PASSWORD, "email": ""}
        ),
    )
    assert outcomes == {"400": PER_IP, "429": BURST - PER_IP}


def test_fifty_wrong_tx_codes_at_once_get_exactly_the_limit_evaluated(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    first, _ = servers
    claims = json.dumps({"birth_date": "1990-05-17"})
    offer = json.loads(
        first.cli(
            "attestations",
            "offer",
            "--account",
            EMAIL,
            "--type",
            "age",
            "--claims",
            claims,
            "--json",
        ).stdout
    )
    document = httpx.get(offer["credential_offer_uri"]).json()
    code = document["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    wrong = [f"{(int(offer['tx_code']) + n) % 10**6:06d}" for n in range(1, BURST + 1)]

    def prepare(base: str) -> Callable[[], str]:
        tx_code = wrong.pop()
        form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code, "tx_code": tx_code}

        http = httpx.Client(timeout=60)
        http.get(base + "/healthz")  # connected before the barrier: the posts arrive together

        def attempt() -> str:
            try:
                return str(http.post(base + "/token", data=form).json().get("error_description"))
            finally:
                http.close()

        return attempt

    outcomes = burst(servers, prepare)
    assert outcomes == {
        "the transaction code is wrong": TX_ATTEMPTS,
        "the pre-authorized code is invalid or has expired": BURST - TX_ATTEMPTS,
    }
    right = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code, "tx_code": offer["tx_code"]}
    assert httpx.post(first.url + "/token", data=right).json()["error"] == "invalid_grant"
