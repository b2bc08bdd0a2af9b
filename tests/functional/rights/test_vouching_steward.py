"""The steward's side of peer vouching (issue 10): the open reports and the decision on them
(POST with CSRF, password or fresh login again), the confirmation graph's warning signs, and
the same reads in the steward API. Accounts appear only as opaque references; the platforms
that receive a resident's `real_person` claim are told when the cascade takes it away."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import AttestationConfig, create_offer, vouching
from attestations.models import IssuedCredential
from attestations.vouching.models import FakeReport
from audit.models import AuditEntry
from identity.accounts.models import Account
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.rights.vouching_world import (
    EMAILS,
    NAMES,
    World,
    build_world,
    claims_changes,
    confirm,
    consent_to,
)
from tests.support.accounts import STRONG_PASSWORD, install_fast_accounts
from tests.support.attestations import POSTCODE_INPUT
from tests.support.oidc import make_resident
from tests.support.steward import steward_reads
from tests.support.wallet import Wallet

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PERSONAL = [*NAMES.values(), *EMAILS.values()]


@pytest.fixture
def world(client: TestClient, runtime: Runtime, session: Session) -> World:
    return build_world(client, runtime, session)


def report(session: Session, runtime: Runtime, reporter: str, reported: str) -> str:
    found = vouching.report_fake(
        session, runtime.subject_keys, reporter_id=reporter, reported_id=reported
    )
    session.commit()
    return found


def ref(session: Session, runtime: Runtime, account: str) -> str:
    return runtime.subject_keys.reference(session, account)


def post_decision(client: TestClient, report_id: str, **fields: str) -> object:
    path = f"/steward/vouching/reports/{report_id}"
    [token] = _CSRF.findall(client.get(path).text)[:1]
    return client.post(path, data={**fields, "csrf_token": token}, follow_redirects=False)


def assert_no_personal_data(text: str, world: World) -> None:
    for value in [*PERSONAL, *world.ids.values()]:
        assert value not in text


def test_the_reports_page_lists_open_reports_by_reference_only(
    client: TestClient, runtime: Runtime, session: Session, world: World
) -> None:
    first = report(session, runtime, world["piet"], world["jan"])
    report(session, runtime, world["klaas"], world["jan"])
    page = client.get("/steward/vouching")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    [row] = re.findall(r"<tr data-report=\"(\w+)\" data-subject=\"(\w+)\">", page.text)
    assert row == (first, ref(session, runtime, world["jan"]))
    cells = re.findall(r'data-label="[^"]+">([^<]*)</td>', page.text)
    assert cells == ["2", "1", "0", "nee"]  # reports, gave, got, real_person
    assert_no_personal_data(page.text, world)
    assert [r["details"]["what"] for r in steward_reads(session)] == ["vouching.reports"]


def test_deciding_fake_unwinds_and_tells_the_platform_of_the_resident_who_lost_real_person(
    client: TestClient, runtime: Runtime, session: Session, world: World
) -> None:
    jan_report = report(session, runtime, world["piet"], world["jan"])
    page = client.get(f"/steward/vouching/reports/{jan_report}")
    assert page.status_code == 200
    assert 'name="decision" value="fake"' in page.text and "csrf_token" in page.text
    assert_no_personal_data(page.text, world)

    done = post_decision(client, jan_report, decision="fake")
    assert done.status_code == 200, done.text  # type: ignore[attr-defined]
    text = done.text  # type: ignore[attr-defined]
    assert 'data-fake="true"' in text
    assert re.search(r'data-count="withdrawn">1<', text)
    assert re.search(r'data-count="lost">1', text)
    assert ref(session, runtime, world["klaas"]) in text
    assert re.search(r'data-count="events">1<', text)
    assert_no_personal_data(text, world)

    session.expire_all()
    [row] = session.scalars(select(FakeReport)).all()
    assert row.state == "fake" and row.decided_by == world["steward"]
    [credential] = session.scalars(
        select(IssuedCredential).where(IssuedCredential.account_id == world["klaas"])
    ).all()
    assert credential.revoked_at is not None
    [event] = claims_changes(session)
    assert event.client_id == world.rp.client_id
    sub = runtime.oidc.subject_ids.for_client(world.rp.client, world["klaas"])
    assert event.payload["sub_id"]["sub"] == sub
    change = next(iter(event.payload["events"].values()))
    assert change["claims"] == {"real_person": None}
    assert change["initiating_entity"] == "admin"
    assert "fake" not in str(change)  # the platform learns the claim changed, not why
    decided = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "vouching.report_decided")
    ).one()
    assert decided.entry.count(ref(session, runtime, world["steward"])) == 1
    # decided: the report is gone from the list and its page
    assert client.get(f"/steward/vouching/reports/{jan_report}").status_code == 404
    assert 'id="no-reports"' in client.get("/steward/vouching").text


def test_dismissing_closes_every_open_report_on_the_account_and_changes_nothing_else(
    client: TestClient, runtime: Runtime, session: Session, world: World
) -> None:
    first = report(session, runtime, world["piet"], world["jan"])
    report(session, runtime, world["klaas"], world["jan"])
    done = post_decision(client, first, decision="dismiss")
    assert done.status_code == 200  # type: ignore[attr-defined]
    assert 'data-fake="false"' in done.text  # type: ignore[attr-defined]
    session.expire_all()
    assert {r.state for r in session.scalars(select(FakeReport))} == {"dismissed"}
    assert vouching.progress(session, runtime.vouching, world["klaas"]).verified
    assert claims_changes(session) == []


def test_a_decision_needs_a_choice_csrf_and_the_password_again(
    client: TestClient, runtime: Runtime, session: Session, world: World, app: object
) -> None:
    accounts = install_fast_accounts(app)  # type: ignore[arg-type]
    steward = session.get(Account, world["steward"])
    assert steward is not None
    steward.password_hash = accounts.passwords.hash(STRONG_PASSWORD)
    session.commit()
    jan_report = report(session, runtime, world["piet"], world["jan"])
    path = f"/steward/vouching/reports/{jan_report}"

    no_csrf = client.post(path, data={"decision": "fake", "password": STRONG_PASSWORD})
    assert no_csrf.status_code == 403
    missing = post_decision(client, jan_report, password=STRONG_PASSWORD)
    assert missing.status_code == 400  # type: ignore[attr-defined]
    assert "Kies nep of afwijzen" in missing.text  # type: ignore[attr-defined]
    odd = post_decision(client, jan_report, decision="maybe", password=STRONG_PASSWORD)
    assert odd.status_code == 422  # type: ignore[attr-defined]
    wrong = post_decision(client, jan_report, decision="fake", password="niet het wachtwoord")
    assert wrong.status_code == 400  # type: ignore[attr-defined]
    assert "Er is niets besloten" in wrong.text  # type: ignore[attr-defined]
    empty = post_decision(client, jan_report, decision="fake", password="")
    assert empty.status_code == 400  # type: ignore[attr-defined]
    assert "Vul je wachtwoord in." in empty.text  # type: ignore[attr-defined]
    session.expire_all()
    assert session.scalars(select(FakeReport.state)).one() == "open"
    done = post_decision(client, jan_report, decision="fake", password=STRONG_PASSWORD)
    assert done.status_code == 200  # type: ignore[attr-defined]


def test_only_stewards_reach_the_vouching_pages_and_api(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    world = build_world(client, runtime, session, steward_logged_in=False)
    jan_report = report(session, runtime, world["piet"], world["jan"])
    paths = [
        "/steward/vouching",
        f"/steward/vouching/reports/{jan_report}",
        "/steward/vouching/graph",
        "/steward/api/vouching/reports",
        "/steward/api/vouching/graph",
    ]
    for path in paths[:3]:
        anonymous = client.get(path, follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/login?return_to=/steward/vouching")
    make_resident(runtime, session, client, email="gewoon@example.org")
    for path in paths:
        assert client.get(path, follow_redirects=False).status_code == 404, path
    refused = client.post(
        f"/steward/vouching/reports/{jan_report}", data={"decision": "fake"}, follow_redirects=False
    )
    assert refused.status_code in (403, 404)
    assert session.scalars(select(FakeReport.state)).one() == "open"
    assert steward_reads(session) == []


def test_the_graph_page_and_api_show_warning_signs_by_reference(
    client: TestClient, runtime: Runtime, session: Session, world: World
) -> None:
    # Jan (a new seed) confirms a third and a fourth resident: 3 confirmations in a period
    # (at his quota) and a newcomer confirming many

    others = [
        make_resident(runtime, session, email=f"n{i}@example.org").account_id for i in range(2)
    ]
    for other in others:
        confirm(session, runtime, world["jan"], other)
    jan = ref(session, runtime, world["jan"])

    page = client.get("/steward/vouching/graph")
    assert page.status_code == 200
    assert re.search(r'data-count="confirmations">4<', page.text)
    assert re.search(r'data-count="peer_holders">1<', page.text)
    assert re.search(r'data-count="seeds">2<', page.text)
    assert f'<tr data-subject="{jan}">' in page.text
    assert_no_personal_data(page.text, world)

    api = client.get("/steward/api/vouching/graph")
    assert api.status_code == 200
    body = api.json()
    assert body["near_quota"] == [{"subject_ref": jan, "used": 3, "quota": 3, "left": 0}]
    [newcomer] = body["newcomers"]
    assert newcomer["subject_ref"] == jan and newcomer["given"] == 3 and newcomer["seed"]
    assert body["clusters"] == [] and body["thresholds"]["young_days"] == 60
    assert_no_personal_data(api.text, world)
    whats = [r["details"]["what"] for r in steward_reads(session)]
    assert whats == ["vouching.graph", "vouching.graph"]


def test_the_reports_api_lists_the_same_lines(
    client: TestClient, runtime: Runtime, session: Session, world: World
) -> None:
    jan_report = report(session, runtime, world["piet"], world["jan"])
    body = client.get("/steward/api/vouching/reports").json()
    [line] = body["reports"]
    assert line["report_id"] == jan_report and line["reports"] == 1
    assert line["subject_ref"] == ref(session, runtime, world["jan"])
    assert (line["gave"], line["got"], line["real_person"]) == (1, 0, False)
    assert_no_personal_data(str(body), world)


def test_the_pages_speak_english_too(
    client: TestClient, runtime: Runtime, session: Session, world: World
) -> None:
    jan_report = report(session, runtime, world["piet"], world["jan"])
    for path in ("/steward/vouching", f"/steward/vouching/reports/{jan_report}"):
        page = client.get(path + "?lang=en")
        assert page.status_code == 200 and 'lang="en"' in page.text
    assert "Fake-profile reports" in client.get("/steward/vouching?lang=en").text
    graph = client.get("/steward/vouching/graph?lang=en").text
    assert "Groups that mostly confirm each other" in graph


def test_a_fake_loses_every_attested_claim_and_its_platforms_are_told(
    client: TestClient, runtime: Runtime, session: Session, world: World
) -> None:

    offer = create_offer(
        session,
        runtime.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=world["jan"],
        type_id="postcode",
        claims=POSTCODE_INPUT,
        actor="desk:test",
    )
    session.commit()
    Wallet(client).accept(offer.offer_uri, offer.tx_code)
    consent_to(session, runtime, world["jan"], world.rp, "postcode_area", "email")
    jan_report = report(session, runtime, world["piet"], world["jan"])
    done = post_decision(client, jan_report, decision="fake")
    assert re.search(r'data-count="revoked">1<', done.text)  # type: ignore[attr-defined]
    assert re.search(r'data-count="events">2<', done.text)  # type: ignore[attr-defined]
    session.expire_all()
    changes = {
        event.payload["sub_id"]["sub"]: next(iter(event.payload["events"].values()))["claims"]
        for event in claims_changes(session)
    }
    subject_ids, client_row = runtime.oidc.subject_ids, world.rp.client
    assert changes == {
        subject_ids.for_client(client_row, world["jan"]): {"postcode_area": None},
        subject_ids.for_client(client_row, world["klaas"]): {"real_person": None},
    }
    told = session.scalars(
        select(AuditEntry.entry).where(AuditEntry.event == "vouching.platforms_told")
    ).all()
    assert len(told) == 2 and all(world.rp.client_id in entry for entry in told)


def test_a_steward_cannot_decide_a_report_on_their_own_account(
    client: TestClient, runtime: Runtime, session: Session, world: World
) -> None:
    own = report(session, runtime, world["piet"], world["steward"])
    refused = post_decision(client, own, decision="dismiss")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    session.expire_all()
    assert session.scalars(select(FakeReport.state)).one() == "open"
