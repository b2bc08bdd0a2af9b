"""The pages of peer vouching over HTTP, with one browser (TestClient) per person: Klaas shows
a QR code and codes on `/account/vouching`, Jan opens the QR code's URL and confirms honestly,
Piet types the short code, and Klaas collects a `real_person` proof with `verification: peer`.
Every refusal says why in plain words and offers no confirm button; unknown, expired and
answered requests look the same; typed codes are rate limited; a profile can be reported as
fake; the desk does the same for a desk account. No audit entry names anyone."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.models import CredentialOffer
from attestations.sdjwt import HeldSdJwt
from attestations.vouching.models import Confirmation, FakeReport
from attestations.wallet.store import usable_credentials
from audit.models import AuditEntry
from core import utcnow
from identity import DESK, grant_role
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.audit import discloses
from tests.support.oidc import hidden_fields, make_resident
from tests.support.wallet import Wallet

KLAAS = "Klaas Vaessen"
EMAILS = {"klaas": "klaas@example.org", "jan": "jan@example.org", "piet": "piet@example.org"}
ASK = "/account/vouching"


@dataclass
class Person:
    account_id: str
    browser: TestClient

    def post(self, path: str, data: dict[str, str], csrf_from: str = "/account") -> httpx.Response:
        token = hidden_fields(self.browser.get(csrf_from).text)["csrf_token"]
        return self.browser.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


@dataclass(frozen=True)
class Showing:
    """What Klaas's page shows while a request is open."""

    url: str  # what the QR code holds (from the cookie: its pixels are read in the e2e test)
    token: str
    check_code: str
    short_code: str


@pytest.fixture
def browsers(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    opened: list[TestClient] = []

    def browser() -> TestClient:
        client = TestClient(app, base_url=TEST_ISSUER)
        client.__enter__()
        opened.append(client)
        return client

    yield browser
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def people(
    runtime: Runtime, session: Session, browsers: Callable[[], TestClient]
) -> dict[str, Person]:
    names = {"klaas": KLAAS, "jan": "Jan", "piet": "Piet", "anna": "Anna"}
    found = {}
    for who, name in names.items():
        browser = browsers()
        email = EMAILS.get(who, f"{who}@example.org")
        account = make_resident(runtime, session, browser, email=email, name=name).account_id
        found[who] = Person(account, browser)
    for seed in ("jan", "piet"):
        vouching.appoint_seed(
            session, runtime.subject_keys, account_id=found[seed].account_id, actor="operator:test"
        )
    session.commit()
    return found


def show_request(klaas: Person, path: str = ASK) -> Showing:
    opened = klaas.post(path, {}, csrf_from=path if path != ASK else "/account")
    assert opened.status_code == 303 and opened.headers["location"] == path
    page = klaas.browser.get(path)
    assert page.status_code == 200 and page.headers["cache-control"].startswith("no-store")
    cookie = klaas.browser.cookies.get("kluis_vouch", path=path)
    assert cookie is not None
    token = cookie.split(".")[1]
    check = re.search(r'id="vouch-check">(\d{4})<', page.text)
    short = re.search(r'id="vouch-short">([A-Z0-9]{4} [A-Z0-9]{4})<', page.text)
    assert check and short, page.text
    assert 'src="data:image/svg+xml;base64,' in page.text and "/static/vouching.js" in page.text
    return Showing(f"{TEST_ISSUER}/vouch/{token}", token, check[1], short[1])


def scan(voucher: Person, showing: Showing) -> httpx.Response:
    return voucher.browser.get(urlsplit(showing.url).path)


def answer(voucher: Person, form: dict[str, str], **fields: str) -> httpx.Response:
    return voucher.post("/vouch/answer", {**form, **fields})


def found_fields(page: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in hidden_fields(page.text).items() if k in ("t", "code")}


def state(person: Person, path: str = ASK) -> dict[str, object]:
    answered = person.browser.get(path + "/state")
    assert answered.status_code == 200
    body: dict[str, object] = answered.json()
    return body


def test_klaas_is_confirmed_by_a_scan_and_a_typed_code_and_keeps_his_peer_proof(
    runtime: Runtime, session: Session, people: dict[str, Person]
) -> None:
    klaas, jan, piet = people["klaas"], people["jan"], people["piet"]
    assert 'href="/account/vouching"' in klaas.browser.get("/account").text
    start = klaas.browser.get(ASK)
    assert "0 van de 2 bevestigingen" in start.text and 'id="vouch-start"' in start.text

    showing = show_request(klaas)
    assert state(klaas)["state"] == "open"
    seen = scan(jan, showing)
    assert seen.status_code == 200
    assert KLAAS in seen.text and f'id="vouch-check">{showing.check_code}<' in seen.text
    assert 'id="vouch-confirm"' in seen.text and "nog 3 mensen" in seen.text
    done = answer(jan, found_fields(seen), answer="confirm", honest="yes")
    assert done.status_code == 200 and f"Je hebt {KLAAS} bevestigd" in done.text

    after = klaas.browser.get(ASK)
    assert 'data-request-state="confirmed"' in after.text
    assert "1 van de 2 bevestigingen" in after.text and 'id="vouch-qr"' not in after.text
    assert state(klaas) == {
        "state": "confirmed",
        "confirmations": 1,
        "threshold": 2,
        "verified": False,
        "can_claim": False,
    }

    second = show_request(klaas)
    assert second.token != showing.token
    typed = piet.post("/vouch", {"code": second.short_code.lower()}, csrf_from="/vouch")
    assert typed.status_code == 200 and f'id="vouch-check">{second.check_code}<' in typed.text
    assert found_fields(typed) == {"code": second.short_code.replace(" ", "")}
    assert answer(piet, found_fields(typed), answer="confirm", honest="yes").status_code == 200

    ready = klaas.browser.get(ASK)
    assert "2 van de 2 bevestigingen" in ready.text and 'id="vouch-claim"' in ready.text
    assert state(klaas)["can_claim"] is True
    offer = klaas.post(ASK + "/claim", {})
    assert offer.status_code == 200 and offer.headers["cache-control"].startswith("no-store")
    kept = klaas.post("/account/wallet/keep", found_offer(offer.text))
    assert kept.status_code == 303 and kept.headers["location"] == "/account?wallet=kept#wallet"
    [held] = usable_credentials(session, runtime.subject_keys, klaas.account_id)
    assert held.type == "real_person" and held.claims["verification"] == "peer"

    assert "al een bewijs" in klaas.browser.get(ASK).text
    assert 'id="vouch-start"' not in klaas.browser.get(ASK).text
    entries = session.scalars(select(AuditEntry)).all()
    events = {e.event for e in entries}
    assert {"vouching.request_opened", "vouching.confirmed", "vouching.peer_granted"} <= events
    for entry in entries:
        for secret in (KLAAS, "Klaas", "Jan", "Piet", *EMAILS.values(), showing.token):
            assert not discloses(entry.entry, secret), (entry.event, secret)


def found_offer(page: str) -> dict[str, str]:
    fields = hidden_fields(page)
    return {"offer_id": fields["offer_id"], "tx_code": fields["tx_code"]}


def test_a_wallet_app_collects_the_peer_offer_by_its_qr_code(
    client: TestClient, runtime: Runtime, session: Session, people: dict[str, Person]
) -> None:
    klaas = people["klaas"]
    for voucher in (people["jan"], people["piet"]):
        seen = scan(voucher, show_request(klaas))
        answer(voucher, found_fields(seen), answer="confirm", honest="yes")
    offer = klaas.post(ASK + "/claim", {})
    link = html.unescape(offer.text.split('id="open-in-app" href="')[1].split('"')[0])
    tx_code = found_offer(offer.text)["tx_code"]
    assert f'id="offer-tx-code">{tx_code}<' in offer.text

    [stored] = Wallet(client).accept(link, tx_code)

    claims = HeldSdJwt.parse(stored.credential).claims
    assert claims["real_person"] is True and claims["verification"] == "peer"


def test_confirming_needs_the_honesty_box_ticked(
    people: dict[str, Person], session: Session
) -> None:
    seen = scan(people["jan"], show_request(people["klaas"]))
    refused = answer(people["jan"], found_fields(seen), answer="confirm")
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text and "Vink aan" in refused.text
    assert session.scalars(select(Confirmation)).all() == []
    assert 'id="vouch-confirm"' in refused.text  # the same request, still open


def test_a_declined_request_shows_as_declined_on_the_vouchee_s_page(
    people: dict[str, Person],
) -> None:
    klaas = people["klaas"]
    showing = show_request(klaas)
    english = people["jan"].browser.get(urlsplit(showing.url).path + "?lang=en")  # the page's link
    assert english.headers["content-language"] == "en" and "Confirm who this is" in english.text
    seen = people["jan"].browser.get(urlsplit(showing.url).path + "?lang=nl")
    done = answer(people["jan"], found_fields(seen), answer="decline")
    assert done.status_code == 200 and f"Je hebt {KLAAS} niet bevestigd" in done.text
    assert state(klaas)["state"] == "declined" and state(klaas)["confirmations"] == 0
    page = klaas.browser.get(ASK)
    assert 'data-request-state="declined"' in page.text and "Nieuwe QR-code" in page.text


def make_fake(runtime: Runtime, session: Session, people: dict[str, Person], who: str) -> None:
    report = vouching.report_fake(
        session,
        runtime.subject_keys,
        reporter_id=people["anna"].account_id,
        reported_id=people[who].account_id,
    )
    vouching.decide(
        session,
        runtime.subject_keys,
        runtime.vouching,
        report_id=report,
        steward_id=people["anna"].account_id,
        fake=True,
    )
    session.commit()


def give_confirmations(runtime: Runtime, session: Session, voucher: str, count: int) -> None:
    for n in range(count):
        other = make_resident(runtime, session, email=f"n{n}@example.org").account_id
        opened = vouching.open_request(
            session, runtime.subject_keys, runtime.vouching, vouchee_id=other
        )
        vouching.confirm(
            session,
            runtime.subject_keys,
            runtime.vouching,
            voucher_id=voucher,
            request_id=opened.id,
        )
    session.commit()


def suspend_jan(runtime: Runtime, session: Session, people: dict[str, Person]) -> None:
    """Jan vouched for someone a steward then found fake."""
    fake = make_resident(runtime, session, email="nep@example.org").account_id
    opened = vouching.open_request(session, runtime.subject_keys, runtime.vouching, vouchee_id=fake)
    vouching.confirm(
        session,
        runtime.subject_keys,
        runtime.vouching,
        voucher_id=people["jan"].account_id,
        request_id=opened.id,
    )
    people["fake"] = Person(fake, people["anna"].browser)
    make_fake(runtime, session, people, "fake")


@pytest.mark.parametrize(
    ("voucher", "arrange", "reason", "words"),
    [
        ("klaas", None, "self", "je eigen verzoek"),
        ("anna", None, "not_eligible", "minstens 30 dagen oud"),
        ("jan", "already", "already_confirmed", "al bevestigd"),
        ("jan", "quota", "quota", "afgelopen 30 dagen"),
        ("jan", "suspended", "suspended", "een tijd niemand bevestigen"),
        ("jan", "fake", "fake", "niet bevestigen"),
    ],
)
def test_a_voucher_who_may_not_confirm_is_told_why_and_gets_no_confirm_button(
    runtime: Runtime,
    session: Session,
    people: dict[str, Person],
    voucher: str,
    arrange: str | None,
    reason: str,
    words: str,
) -> None:
    klaas, jan = people["klaas"], people["jan"]
    if arrange == "already":
        answer(jan, found_fields(scan(jan, show_request(klaas))), answer="confirm", honest="yes")
    elif arrange == "quota":
        give_confirmations(runtime, session, jan.account_id, 3)
    elif arrange == "suspended":
        suspend_jan(runtime, session, people)
    elif arrange == "fake":
        make_fake(runtime, session, people, "klaas")
    showing = show_request(klaas)

    seen = scan(people[voucher], showing)

    assert seen.status_code == 200
    assert f'data-refusal="{reason}"' in seen.text and words in seen.text
    assert 'id="vouch-confirm"' not in seen.text and 'action="/vouch/answer"' not in seen.text
    assert ('id="vouch-report"' in seen.text) is (reason != "self")
    # a confirmation forced past the page is refused the same way, and audited
    forced = answer(people[voucher], {"t": showing.token}, answer="confirm", honest="yes")
    assert forced.status_code == 409 and f'data-refusal="{reason}"' in forced.text
    refusals = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "vouching.refused").order_by(AuditEntry.idx)
    )
    assert [json.loads(e.entry)["details"]["reason"] for e in refusals][-1:] == [reason]
    assert state(klaas)["state"] == "open"  # the request waits for someone who may answer


def test_unknown_expired_and_answered_requests_look_the_same(
    runtime: Runtime, session: Session, people: dict[str, Person]
) -> None:
    klaas, jan = people["klaas"], people["jan"]
    answered = show_request(klaas)
    answer(jan, found_fields(scan(jan, answered)), answer="decline")
    expired = vouching.open_request(
        session,
        runtime.subject_keys,
        runtime.vouching,
        vouchee_id=klaas.account_id,
        now=utcnow() - dt.timedelta(hours=1),
    )
    session.commit()
    tokens = (answered.token, expired.token, "x" * 43, "not a token!", "é" * 20, "a" * 5000)
    pages = [jan.browser.get("/vouch/" + quote(token)) for token in tokens]
    pages += [jan.browser.get("/vouch", params={"t": token}) for token in tokens]
    assert {p.status_code for p in pages} == {404}
    assert len({main_of(p.text) for p in pages}) == 1
    assert "verlopen of al beantwoord" in pages[0].text
    gone = answer(jan, {"t": answered.token}, answer="confirm", honest="yes")
    assert gone.status_code == 404 and main_of(gone.text) == main_of(pages[0].text)


def main_of(page: str) -> str:
    return page.split("<main")[1].split("</main>")[0]


def test_typed_codes_are_rate_limited(people: dict[str, Person]) -> None:
    anna = people["anna"]
    token = hidden_fields(anna.browser.get("/vouch").text)["csrf_token"]
    wrong = ["ABCDEFG" + last for last in "23456789ABC"]
    answers = [anna.browser.post("/vouch", data={"csrf_token": token, "code": c}) for c in wrong]
    assert [a.status_code for a in answers[:10]] == [404] * 10
    assert "Deze code werkt niet" in answers[0].text and 'aria-invalid="true"' in answers[0].text
    throttled = answers[10]
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert "te vaak een verkeerde code" in throttled.text
    # the right code is throttled too, until the window has passed
    showing = show_request(people["klaas"])
    right = anna.browser.post("/vouch", data={"csrf_token": token, "code": showing.short_code})
    assert right.status_code == 429


def test_a_malformed_typed_code_is_a_form_error_and_costs_no_attempt(
    people: dict[str, Person],
) -> None:
    anna = people["anna"]
    token = hidden_fields(anna.browser.get("/vouch").text)["csrf_token"]
    for code in ("", "abc", "ABCD-EFGH-IJKL", "<script>", "ÄÖÜ12345"):
        page = anna.browser.post("/vouch", data={"csrf_token": token, "code": code})
        assert page.status_code == 400 and "Deze code werkt niet" in page.text
        assert "<script>" not in main_of(page.text)


def test_a_member_reports_the_profile_as_fake_and_a_steward_will_look(
    runtime: Runtime, session: Session, people: dict[str, Person]
) -> None:
    klaas, jan = people["klaas"], people["jan"]
    seen = scan(jan, show_request(klaas))
    assert "Dit is niet wie die zegt te zijn" in seen.text
    without_csrf = jan.browser.post("/vouch/report", data=found_fields(seen))
    assert without_csrf.status_code == 403
    assert session.scalars(select(FakeReport)).all() == []

    reported = jan.post("/vouch/report", found_fields(seen))

    assert reported.status_code == 200 and "Een beheerder bekijkt het" in reported.text
    [report] = session.scalars(select(FakeReport)).all()
    assert report.reported_id == klaas.account_id and report.reporter_id == jan.account_id
    assert state(klaas)["state"] == "open"  # the report does not answer the request
    self_report = klaas.post("/vouch/report", {"t": show_request(klaas).token})
    assert self_report.status_code == 409 and "jezelf niet melden" in self_report.text


def test_without_a_login_the_qr_code_leads_to_the_login_and_back(
    app: FastAPI, people: dict[str, Person], browsers: Callable[[], TestClient]
) -> None:
    showing = show_request(people["klaas"])
    stranger = browsers()
    first = stranger.get(f"/vouch/{showing.token}", follow_redirects=False)
    assert first.status_code == 303
    location = first.headers["location"]
    assert location == f"/login?return_to={quote('/vouch/' + showing.token, safe='/')}"
    [back] = parse_qs(urlsplit(location).query)["return_to"]
    login = stranger.get(location)
    assert hidden_fields(login.text)["return_to"] == back == f"/vouch/{showing.token}"
    also = stranger.get(f"/vouch?t={showing.token}", follow_redirects=False)
    assert also.headers["location"] == location
    for path in ("/vouch", ASK):
        answered = stranger.get(path, follow_redirects=False)
        assert answered.status_code == 303 and answered.headers["location"].startswith("/login")
    assert stranger.get(ASK + "/state").status_code == 401


def test_bad_input_gets_a_clear_answer_and_never_a_500(people: dict[str, Person]) -> None:
    klaas, jan = people["klaas"], people["jan"]
    showing = show_request(klaas)
    form = {"t": showing.token}
    assert answer(jan, form, answer="maybe").status_code == 422
    assert answer(jan, form, answer="confirm", honest="yes", code="x" * 2000).status_code == 422
    assert jan.browser.post("/vouch/answer", data={**form, "answer": "confirm"}).status_code == 403
    assert klaas.browser.post(ASK, data={}).status_code == 403
    real = klaas.browser.cookies.get("kluis_vouch", path=ASK) or ""
    far = "0" * 32 + "." + "A" * 43 + ".ABCDEFGH.1234.999999999999."  # after the year 9999
    for junk in ("", "x", "a.b.c.d.e.f", far, "%C3%A9"):
        klaas.browser.cookies.delete("kluis_vouch")
        klaas.browser.cookies.set("kluis_vouch", junk, path=ASK)
        page = klaas.browser.get(ASK)
        assert page.status_code == 200 and 'id="vouch-start"' in page.text
        assert state(klaas)["state"] is None
    # someone else's request in this browser's cookie shows nothing of it
    jan.browser.cookies.set("kluis_vouch", real, path=ASK)
    assert 'id="vouch-qr"' not in jan.browser.get(ASK).text
    assert state(jan)["state"] == "expired"


def test_collecting_before_the_threshold_says_so(people: dict[str, Person]) -> None:
    refused = people["klaas"].post(ASK + "/claim", {})
    assert refused.status_code == 409 and "nog niet genoeg bevestigingen" in refused.text


# --- the desk ------------------------------------------------------------------------------


@pytest.fixture
def operator(runtime: Runtime, session: Session, people: dict[str, Person]) -> Person:
    anna = people["anna"]
    grant_role(session, runtime.subject_keys, anna.account_id, DESK, "operator:test")
    session.commit()
    return anna


def test_the_desk_shows_a_request_for_a_desk_account_and_makes_the_peer_offer(
    runtime: Runtime, session: Session, people: dict[str, Person], operator: Person
) -> None:
    desk = operator
    assert 'action="/desk/vouching"' in desk.browser.get("/desk").text
    opened = desk.post("/desk/vouching", {"vouching-resident": EMAILS["klaas"]}, "/desk")
    assert opened.status_code == 303 and opened.headers["location"] == "/desk/vouching"
    page = desk.browser.get("/desk/vouching")
    assert "0 van de 2" in page.text and 'id="vouch-qr"' in page.text
    cookie = desk.browser.cookies.get("kluis_vouch", path="/desk/vouching") or ""
    short = re.search(r'id="vouch-short">([A-Z0-9 ]{9})<', page.text)
    assert short is not None

    typed = people["jan"].post("/vouch", {"code": short[1]}, csrf_from="/vouch")
    assert KLAAS in typed.text
    answer(people["jan"], found_fields(typed), answer="confirm", honest="yes")
    assert desk.browser.get("/desk/vouching/state").json()["confirmations"] == 1
    again = desk.post("/desk/vouching/again", {}, "/desk/vouching")
    assert again.status_code == 303
    token = (desk.browser.cookies.get("kluis_vouch", path="/desk/vouching") or "").split(".")[1]
    assert token != cookie.split(".")[1]
    seen = people["piet"].browser.get(f"/vouch/{token}")
    answer(people["piet"], found_fields(seen), answer="confirm", honest="yes")

    ready = desk.browser.get("/desk/vouching")
    assert 'action="/desk/vouching/claim"' in ready.text
    offer = desk.post("/desk/vouching/claim", {}, "/desk/vouching")
    assert offer.status_code == 200 and 'class="qr"' in offer.text
    [waiting] = session.scalars(
        select(CredentialOffer).where(CredentialOffer.type == "real_person")
    ).all()
    assert waiting.expires_at - utcnow() > dt.timedelta(hours=23)  # collected at home
    operator_ref = runtime.subject_keys.reference(session, operator.account_id)
    for event in ("vouching.request_opened", "vouching.peer_granted"):
        actors = session.scalars(select(AuditEntry.actor).where(AuditEntry.event == event))
        assert f"desk:{operator_ref}" in set(actors), event


def test_desk_vouching_is_only_for_operators(people: dict[str, Person]) -> None:
    jan = people["jan"]
    for path in ("/desk/vouching", "/desk/vouching/state"):
        assert jan.browser.get(path).status_code == 404
    for path in ("/desk/vouching", "/desk/vouching/again", "/desk/vouching/claim"):
        data = {"vouching-resident": EMAILS["klaas"]}
        assert jan.post(path, data).status_code == 404


def test_the_desk_names_an_unknown_resident(operator: Person, session: Session) -> None:
    page = operator.post("/desk/vouching", {"vouching-resident": "niemand@example.org"}, "/desk")
    assert page.status_code == 400 and "geen account" in page.text
    assert 'aria-invalid="true"' in page.text
    no_request = operator.browser.get("/desk/vouching", follow_redirects=False)
    assert no_request.status_code == 303 and no_request.headers["location"] == "/desk"


def test_the_desk_asks_for_an_empty_resident_field(operator: Person, session: Session) -> None:
    page = operator.post("/desk/vouching", {"vouching-resident": ""}, "/desk")
    assert page.status_code == 400
    assert "Vul het e-mailadres of de gebruikersnaam van de bewoner in." in page.text
    assert "geen account" not in page.text
    assert '<a href="#vouching-resident">' in page.text and 'aria-invalid="true"' in page.text
