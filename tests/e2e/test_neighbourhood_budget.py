"""The neighbourhood-budget journey of issue 12, end to end on a real `kluis serve`.

The municipality generates letters for three addresses in 1087 for the poll buurtbudget-2027
(`kluis letters generate`). Resident A scans the letter's QR code, logs in, redeems the code
into the built-in wallet and votes by QR at a platform's poll (universal link, pairing code
from the platform's status API, approve). Voting again gives the same pseudonym; A's second
account cannot redeem the letter and has nothing to vote with. Resident B, without account
or smartphone, votes on paper through the platform's API with the code of letter 2, once. The
platform's tally (distinct pseudonyms) holds two votes, one per letter. Pseudonyms of another
platform and of other polls are unlinkable. Afterwards the audit log verifies, and no letter
code is readable in the database or the server's files.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support import forms
from tests.support.databases import backend, drop_database, fresh_database_url
from tests.support.live_kluis import add_resident
from tests.support.poll_platform import (
    PollPlatform,
    decide,
    form_by_id,
    log_in,
    open_and_pair,
    phone,
)
from tests.support.server import LiveServer, run_server

pytestmark = pytest.mark.e2e

POLL = "buurtbudget-2027"
OTHER_POLL = "parkeerplan-2027"
THIRD_POLL = "speeltuin-2027"
PASSWORD = "een lang en sterk wachtwoord"
RESIDENT_A = "bewoner.a@example.org"
RESIDENT_A_AGAIN = "bewoner.a.tweede@example.org"
ADDRESSES = [
    "postcode,huisnummer,toevoeging,buurtcode",
    "1087AB,12,,BU03630001",
    "1087AC,7,a,BU03630001",
    "1087 BD,31,,",
]
MUNICIPALITY = {"code": "GM0363", "name": "Amsterdam"}
PROBLEM = "urn:kluis:problem:"


@dataclass(frozen=True)
class World:
    kluis: LiveServer
    database_url: str
    work: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    work = tmp_path_factory.mktemp("buurtbudget")
    url = fresh_database_url(work)
    try:
        with run_server(work / "data", url) as kluis:
            yield World(kluis, url, work)
    finally:
        drop_database(url)


def test_one_letter_one_vote_by_qr_or_on_paper_unlinkable_across_polls_and_platforms(
    world: World,
) -> None:
    kluis = world.kluis
    # 1. the municipality's letters; letters.csv is the only place the codes exist
    letters = generate_letters(world, "brieven", ADDRESSES, poll=POLL)
    assert [(row["postcode"], row["huisnummer"]) for row in letters] == [
        ("1087AB", "12"),
        ("1087AC", "7"),
        ("1087BD", "31"),
    ]
    code_a, code_b = letters[0]["code"], letters[1]["code"]
    # 2. the platform, authenticated at the verifier and paper-vote APIs by its client secret
    buurt = PollPlatform.register(
        kluis, "Buurtplatform Oost", "https://buurt.example/cb", "Stemmen over het buurtbudget"
    )
    tally: set[str] = set()  # what the platform counts: one vote per distinct pseudonym

    with contextlib.ExitStack() as stack:
        # 3. resident A: the letter's QR code, login, redeem, keep in the built-in wallet
        add_resident(kluis, RESIDENT_A, PASSWORD)
        a_phone = stack.enter_context(contextlib.closing(phone(kluis)))
        offer = redeem_from_the_letter(a_phone, kluis, letters[0]["link"], RESIDENT_A)
        keep_in_the_wallet(a_phone, offer)
        first = vote_by_qr(a_phone, buurt, POLL)
        [entry] = first["credentials"]
        assert entry["claims"] == {"postcode_area": "1087", "residence_source": "letter"}
        assert entry["verification"]["key_binding"] == "valid"
        assert first["poll_id"] == POLL
        p1 = first["poll_pseudonym"]
        tally.add(p1)

        # 4. A votes again, in a new session: the same pseudonym, still one vote
        assert vote_by_qr(a_phone, buurt, POLL)["poll_pseudonym"] == p1
        tally.add(p1)
        assert len(tally) == 1
        a_second_account_cannot_vote_with_letter_1(stack, kluis, buurt, code_a)

        # 5. resident B (no account, no smartphone): letter 2 on paper, once
        paper_b = buurt.paper_vote(code_b, POLL)
        assert paper_b.status_code == 200, paper_b.text
        p2 = paper_b.json()["poll_pseudonym"]
        assert paper_b.json() == {
            "postcode_area": "1087",
            "municipality": MUNICIPALITY,
            "poll_id": POLL,
            "poll_pseudonym": p2,
        }
        assert p2 != p1
        tally.add(p2)
        # typed differently (case, dashes instead of spaces), it is the same letter
        refused(buurt.paper_vote(code_b.lower().replace(" ", "-"), POLL), 409, "already-voted")
        # Letter 1 already voted by QR. The paper path keeps its own once-per-poll record
        # (`letter_votes`), which a QR vote does not write, so it answers once more -- but with
        # the letter's own pseudonym P1 (both paths hash the letter, not the account), so the
        # tally does not grow: one letter, one vote, however it votes.
        paper_a = buurt.paper_vote(code_a, POLL)
        assert paper_a.status_code == 200, paper_a.text
        assert paper_a.json()["poll_pseudonym"] == p1
        tally.add(paper_a.json()["poll_pseudonym"])
        refused(buurt.paper_vote(code_a, POLL), 409, "already-voted")

        # 6. the tally: two votes, one per letter
        assert tally == {p1, p2}

        # 7. unlinkable: another platform (another sector) in the same poll ...
        wijkraad = PollPlatform.register(
            kluis, "Wijkraad West", "https://wijkraad.example/cb", "Stemmen over het buurtbudget"
        )
        at_wijkraad = vote_by_qr(a_phone, wijkraad, POLL)["poll_pseudonym"]
        paper_b_at_wijkraad = wijkraad.paper_vote(code_b, POLL)
        assert paper_b_at_wijkraad.status_code == 200, paper_b_at_wijkraad.text
        elsewhere = {at_wijkraad, paper_b_at_wijkraad.json()["poll_pseudonym"]}
        assert len(elsewhere) == 2 and not elsewhere & tally
        # ... and other polls. The letters are for buurtbudget-2027: the paper path refuses
        # them in another poll.
        refused(buurt.paper_vote(code_b, OTHER_POLL), 409, "letter-code-other-poll")
        refused(buurt.paper_vote(letters[2]["code"], OTHER_POLL), 409, "letter-code-other-poll")
        # So does the QR path: a buurtbudget letter's credential gets no pseudonym in
        # parkeerplan-2027 (else an address with a parkeerplan letter too would vote twice).
        other_poll = vote_by_qr(a_phone, buurt, OTHER_POLL)
        assert other_poll["poll_id"] == OTHER_POLL
        assert other_poll["poll_pseudonym_unavailable"] == "other_poll"
        assert "poll_pseudonym" not in other_poll
        assert not any(seen in json.dumps(other_poll) for seen in tally | elsewhere)
        # A letter without a poll votes once in any poll, under a pseudonym per poll (for the
        # address of letter 3, which the paper path keeps out of parkeerplan-2027 above).
        [any_poll] = generate_letters(
            world, "brieven-zonder-peiling", [ADDRESSES[0], ADDRESSES[3]], poll=None
        )
        per_poll = set()
        for poll in (OTHER_POLL, THIRD_POLL):
            voted = buurt.paper_vote(any_poll["code"], poll)
            assert voted.status_code == 200, voted.text
            per_poll.add(voted.json()["poll_pseudonym"])
            refused(buurt.paper_vote(any_poll["code"], poll), 409, "already-voted")
        assert len(per_poll) == 2 and not per_poll & (tally | elsewhere)

    # 8. the audit log verifies, and no letter code is readable where the server keeps things
    verified = kluis.cli("audit", "verify", "--json", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    traces = list(readable_traces(world))
    assert any(where.endswith("server.log") for where, _ in traces)
    assert any("letter.paper_voted" in text for _, text in traces)  # the scan reads the data
    codes = [row["code"] for row in letters] + [any_poll["code"]]
    leaks = [
        (where, code)
        for where, text in traces
        for code in codes
        for written in spellings(code)
        if written in text
    ]
    assert leaks == []


# --- the steps ------------------------------------------------------------------------------


def generate_letters(
    world: World, name: str, rows: list[str], *, poll: str | None
) -> list[dict[str, str]]:
    """`kluis letters generate` for `rows`; the rows of its letters.csv (mail merge)."""
    source = world.work / f"{name}.csv"
    source.write_text("\n".join(rows) + "\n")
    output = world.work / name
    valid_until = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    args = ["letters", "generate", "--input", str(source), "--output", str(output)]
    args += ["--municipality", MUNICIPALITY["code"], "--municipality-name", MUNICIPALITY["name"]]
    args += ["--valid-until", valid_until, *(["--poll", poll] if poll else [])]
    done = world.kluis.cli(*args, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with (output / "letters.csv").open(newline="", encoding="utf-8") as merged:
        letters = list(csv.DictReader(merged))
    assert len(letters) == len(rows) - 1
    for letter in letters:
        assert letter["code"] not in done.stdout + done.stderr  # the summary names no code
        assert letter["link"].startswith(f"{world.kluis.url}/letters/redeem?code=")
    return letters


def redeem_from_the_letter(
    browser: httpx.Client, kluis: LiveServer, link: str, email: str
) -> httpx.Response:
    """Scan the letter's QR code: the login page comes first, then the redeem form with the
    code filled in; send it. Returns the offer page."""
    opened = browser.get(link)
    assert opened.status_code == 303, opened.text
    back = log_in(browser, urljoin(kluis.url, opened.headers["location"]), email, PASSWORD)
    assert back.headers["location"].startswith("/letters/redeem?code=")
    form_page = browser.get(urljoin(kluis.url, back.headers["location"]))
    form = form_by_id(form_page, "redeem-form")
    [typed] = [f.value for f in form.inputs if f.name == "code"]
    assert typed  # filled in from the QR code
    offer = forms.send(
        browser, forms.Submission("POST", form.action, [*form.hidden(), ("code", typed)])
    )
    assert offer.status_code == 200, offer.text
    assert re.search("(postcodegebied|postcode area) 1087 ", offer.text), offer.text
    assert 'id="keep-form"' in offer.text
    return offer


def keep_in_the_wallet(browser: httpx.Client, offer: httpx.Response) -> None:
    form = form_by_id(offer, "keep-form")  # its hidden inputs carry the transaction code
    kept = forms.send(browser, forms.Submission("POST", form.action, form.hidden()))
    assert kept.status_code == 303, kept.text
    assert kept.headers["location"].endswith("/account?wallet=kept#wallet")


def vote_by_qr(browser: httpx.Client, platform: PollPlatform, poll_id: str) -> dict[str, Any]:
    """The platform shows a QR code for `poll_id`; the resident opens it with the built-in
    wallet, types the pairing code and approves. Returns the platform's verified result."""
    created = platform.start(poll_id)
    page = open_and_pair(browser, platform, created)
    shown = browser.get(page)
    assert shown.status_code == 200, shown.text
    asked = {f'data-claim="{claim}"' for claim in ("postcode_area", "residence_source")}
    assert all(claim in shown.text for claim in asked) and shown.text.count("data-claim=") == 2
    shared = decide(browser, page)
    assert shared.status_code == 200, shared.text
    return platform.result(created)


def a_second_account_cannot_vote_with_letter_1(
    stack: contextlib.ExitStack, kluis: LiveServer, platform: PollPlatform, code: str
) -> None:
    """Resident A's second Kluis account: letter 1 is bound to the first account, so it is
    refused, and the wallet has no proof to vote with (even a forced "allow" presents
    nothing)."""
    add_resident(kluis, RESIDENT_A_AGAIN, PASSWORD)
    browser = stack.enter_context(contextlib.closing(phone(kluis)))
    log_in(browser, kluis.url + "/login", RESIDENT_A_AGAIN, PASSWORD)
    attempt = forms.prepared(browser, kluis.url + "/letters/redeem", {"code": code})
    taken = forms.send(browser, attempt)
    assert taken.status_code == 409, taken.text
    assert "This code has already been used" in taken.text
    assert 'id="keep-form"' not in taken.text

    created = platform.start(POLL)
    page = open_and_pair(browser, platform, created)
    assert 'id="no-match"' in browser.get(page).text
    forced = decide(browser, page, "allow")
    assert forced.status_code == 303 and urljoin(page, forced.headers["location"]) == page
    assert platform.status(created)["status"] == "scanned"  # nothing was presented
    assert platform.cancel(created)["status"] == "cancelled"


def refused(response: httpx.Response, status: int, problem: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].startswith(PROBLEM)
    assert response.json()["type"].endswith(problem)


# --- the byte scan --------------------------------------------------------------------------


def spellings(code: str) -> set[str]:
    """The ways a code could have been written down (traces are compared in lower case)."""
    compact = "".join(code.split()).lower()
    groups = [compact[i : i + 3] for i in range(0, len(compact), 3)]
    return {compact} | {sep.join(groups) for sep in (" ", "-", "+", "%20")}


def readable_traces(world: World) -> Iterator[tuple[str, str]]:
    """What someone with the server's disk could read, in lower case: every file of its data
    directory (the log among them) and the database."""
    data = Path(world.kluis.env["KLUIS_DATA_DIR"])
    for path in sorted(data.rglob("*")):
        if path.is_file():
            yield str(path), path.read_bytes().decode("latin-1").lower()
    url = make_url(world.database_url)
    if backend() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{url.database}{suffix}")
            if path.exists():
                yield str(path), path.read_bytes().decode("latin-1").lower()
        return
    options = url.query["options"]
    assert isinstance(options, str)
    schema = options.removeprefix("-csearch_path=")
    plain = world.database_url.replace("postgresql+psycopg://", "postgresql://")
    dump = subprocess.run(
        ["pg_dump", "--data-only", "--schema", schema, "--dbname", plain],
        capture_output=True,
        check=True,
        timeout=60,
    )
    yield "pg_dump", dump.stdout.decode("latin-1").lower()
