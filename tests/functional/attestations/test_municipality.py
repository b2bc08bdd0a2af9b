"""'Haal mijn gegevens op bij de gemeente' over HTTP: the button on /account, the broker's
callback (the development broker, which hands back a configured BSN), the registry adapter
talking to a fake that checks every request against the official BRP contract, and offers a
resident keeps in the built-in wallet. One account per person; nothing personal stays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import respx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import ApiKey, DevelopmentUpstream, HttpRegistry
from attestations import MunicipalitySource
from attestations.models import CredentialOffer, MunicipalityLogin
from attestations.municipality import finish_municipality_login, start_municipality_login
from attestations.vouching.models import VouchingAddress
from attestations.wallet.store import usable_credentials
from audit.models import AuditEntry
from identity import PERSON_KEY_PURPOSE
from identity.accounts.models import PersonLink
from keys import derive_key
from service.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.support.audit import discloses
from tests.support.brp_contract import contract_fake
from tests.support.brp_people import BSN, ELSEWHERE, person
from tests.support.oidc import hidden_fields, make_resident

BASE = "https://brp.test/haalcentraal/api/brp"
CALLBACK = "http://testserver/account/municipality/callback"


@pytest.fixture
def registry_people() -> dict[str, dict[str, Any]]:
    return {BSN: person()}


@pytest.fixture
def registry(registry_people: dict[str, dict[str, Any]]) -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/personen").mock(side_effect=contract_fake(registry_people))
        yield router


@pytest.fixture
def municipality(runtime: Runtime, registry: respx.MockRouter) -> MunicipalitySource:
    source = MunicipalitySource(
        upstream=DevelopmentUpstream(CALLBACK, BSN),
        registry=HttpRegistry(BASE, ApiKey("test-key"), sleep=lambda _: None),
        person_key=derive_key(TEST_SECRET.encode(), PERSON_KEY_PURPOSE),
    )
    runtime.municipality = source
    return source


def fetch_from_municipality(client: TestClient) -> Any:
    """The resident presses the button; the (development) broker sends them straight back."""
    page = client.get("/account")
    started = client.post(
        "/account/municipality",
        data={"csrf_token": hidden_fields(page.text)["csrf_token"]},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    back = urlsplit(started.headers["location"])
    assert back.path == "/account/municipality/callback"
    return client.get(f"{back.path}?{back.query}")


def test_the_button_shows_only_when_the_municipality_is_connected(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    make_resident(runtime, session, client)
    assert 'action="/account/municipality"' not in client.get("/account").text
    token = hidden_fields(client.get("/account").text)["csrf_token"]
    assert client.post("/account/municipality", data={"csrf_token": token}).status_code == 404


def test_the_registry_s_answer_becomes_postcode_and_age_offers_kept_in_the_wallet(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
    registry: respx.MockRouter,
) -> None:
    resident = make_resident(runtime, session, client)
    assert 'action="/account/municipality"' in client.get("/account").text

    page = fetch_from_municipality(client)

    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    # no language switch: it would repeat the callback's spent code and lose the tx codes
    assert 'hreflang="' not in page.text and "state=" not in page.text
    assert registry.calls.call_count == 1  # one look-up, as the contract allows it
    offers = session.scalars(select(CredentialOffer)).all()
    assert sorted(o.type for o in offers) == ["age", "postcode"]
    for form in _keep_forms(page.text):
        kept = client.post("/account/wallet/keep", data=form, follow_redirects=False)
        assert kept.headers["location"] == "/account?wallet=kept#wallet"
    held = {
        c.type: c.claims
        for c in usable_credentials(session, runtime.subject_keys, resident.account_id)
    }
    assert held["postcode"]["postcode_area"] == "1087"
    assert held["postcode"]["residence_source"] == "registry"
    assert held["age"]["age_over_18"] is True
    assert "birth_date" not in held["age"]


def test_nothing_personal_stays_behind(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
) -> None:
    resident = make_resident(runtime, session, client)
    fetch_from_municipality(client)

    link = session.get(PersonLink, resident.account_id)
    assert link is not None and BSN not in link.person_ref
    assert session.scalars(select(MunicipalityLogin)).all() == []  # the login served once
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.idx)).all()
    events = [e.event for e in entries]
    assert "person.linked" in events and "registry.consulted" in events
    for entry in entries:
        for needle in (BSN, "1087AB", "1990-05-17", "Spui"):
            assert not discloses(entry.entry, needle), entry.event
    # the address is kept only as the keyed hash of postcode and house number, for vouching
    home = session.get(VouchingAddress, resident.account_id)
    assert home is not None and home.source == "registry"
    assert home.address_ref == runtime.vouching.address_ref("1087 ab", "70", "B2")
    assert "vouching.address_recorded" in events


def test_a_postcode_without_house_number_records_no_address(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
    registry_people: dict[str, dict[str, Any]],
) -> None:
    registry_people[BSN] = person(
        verblijfplaats={"type": "Adres", "verblijfadres": {"postcode": "1087AB"}}
    )
    resident = make_resident(runtime, session, client)

    assert fetch_from_municipality(client).status_code == 200

    assert [o.type for o in session.scalars(select(CredentialOffer))].count("postcode") == 1
    assert session.get(VouchingAddress, resident.account_id) is None


def test_fetching_twice_replaces_the_pending_offers_instead_of_adding_to_them(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
) -> None:
    resident = make_resident(runtime, session, client)
    first = fetch_from_municipality(client)
    kept_age = next(f for f in _keep_forms(first.text) if _offer_type(session, f) == "age")
    kept = client.post("/account/wallet/keep", data=kept_age, follow_redirects=False)
    assert kept.headers["location"] == "/account?wallet=kept#wallet"
    first_ids = {o.id for o in session.scalars(select(CredentialOffer))}

    second = fetch_from_municipality(client)

    assert second.status_code == 200
    now = dt.datetime.now(dt.UTC)
    offers = session.scalars(
        select(CredentialOffer).where(CredentialOffer.account_id == resident.account_id)
    ).all()
    pending = [o for o in offers if o.used_at is None and o.expires_at.replace(tzinfo=dt.UTC) > now]
    assert sorted(o.type for o in pending) == ["age", "postcode"]  # one of each, not two
    assert not {o.id for o in pending} & first_ids
    # the first postcode offer ended; the redeemed age offer stays as it was
    (old_postcode,) = [o for o in offers if o.id in first_ids and o.type == "postcode"]
    assert old_postcode.expires_at.replace(tzinfo=dt.UTC) <= now
    (used_age,) = [o for o in offers if o.id in first_ids and o.type == "age"]
    assert used_age.used_at is not None and used_age.expires_at.replace(tzinfo=dt.UTC) > now
    old = client.post(
        "/account/wallet/keep", data=_keep_forms(first.text)[1], follow_redirects=False
    )
    assert "wallet=kept" not in old.headers["location"]  # refused like an expired offer
    consulted = [
        e.entry for e in session.scalars(select(AuditEntry)) if e.event == "registry.consulted"
    ]
    assert f'"replaced":["{old_postcode.id}"]' in consulted[-1]
    for form in _keep_forms(second.text):  # the new offers are redeemable
        kept = client.post("/account/wallet/keep", data=form, follow_redirects=False)
        assert kept.headers["location"] == "/account?wallet=kept#wallet"


def _offer_type(session: Session, form: dict[str, str]) -> str:
    offer = session.get(CredentialOffer, form["offer_id"])
    assert offer is not None
    return offer.type


def test_a_second_account_of_the_same_person_is_refused_without_naming_the_first(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
) -> None:
    first = make_resident(runtime, session, client, email="eerste@example.org")
    assert fetch_from_municipality(client).status_code == 200
    client.cookies.clear()
    second = make_resident(runtime, session, client, email="tweede@example.org")

    refused = fetch_from_municipality(client)

    assert refused.status_code == 409
    assert "al een ander account" in refused.text
    assert "eerste" not in refused.text and first.account_id not in refused.text
    assert (
        session.scalars(
            select(CredentialOffer).where(CredentialOffer.account_id == second.account_id)
        ).all()
        == []
    )


def test_a_replayed_or_foreign_callback_finds_no_login(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
) -> None:
    make_resident(runtime, session, client, email="eerste@example.org")
    page = client.get("/account")
    started = client.post(
        "/account/municipality",
        data={"csrf_token": hidden_fields(page.text)["csrf_token"]},
        follow_redirects=False,
    )
    back = urlsplit(started.headers["location"])
    callback = f"{back.path}?{back.query}"
    client.cookies.clear()
    make_resident(runtime, session, client, email="tweede@example.org")
    assert client.get(callback).status_code == 400  # started by another account

    tampered = callback.replace("state=", "state=x")
    assert client.get(tampered).status_code == 400


@pytest.mark.parametrize("elsewhere", sorted(ELSEWHERE))
def test_no_dutch_address_means_no_postcode_offer(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
    registry_people: dict[str, dict[str, Any]],
    elsewhere: str,
) -> None:
    registry_people[BSN] = person(verblijfplaats=ELSEWHERE[elsewhere])
    resident = make_resident(runtime, session, client)

    page = fetch_from_municipality(client)

    assert page.status_code == 200
    assert [o.type for o in session.scalars(select(CredentialOffer))] == ["age"]
    assert session.get(VouchingAddress, resident.account_id) is None
    assert "Niet gelukt: Woonplaatsbewijs." in page.text


def test_a_birth_year_alone_gives_only_the_certain_thresholds(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
    registry_people: dict[str, dict[str, Any]],
) -> None:
    this_year = dt.date.today().year
    born = {"type": "JaarDatum", "jaar": this_year - 65, "langFormaat": str(this_year - 65)}
    registry_people[BSN] = person(geboorte={"datum": born})
    resident = make_resident(runtime, session, client)

    page = fetch_from_municipality(client)
    for form in _keep_forms(page.text):
        client.post("/account/wallet/keep", data=form)

    held = {
        c.type: c.claims
        for c in usable_credentials(session, runtime.subject_keys, resident.account_id)
    }
    age = {k: v for k, v in held["age"].items() if k.startswith("age_over_")}
    assert age == {
        "age_over_12": True,
        "age_over_16": True,
        "age_over_18": True,
        "age_over_21": True,
    }


def test_a_registry_that_stays_unavailable_gets_a_clear_page_and_no_offers(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    municipality: MunicipalitySource,
    registry: respx.MockRouter,
) -> None:
    registry.post("/personen").mock(side_effect=contract_fake({}, problems=[503, 503, 503]))
    make_resident(runtime, session, client)

    page = fetch_from_municipality(client)

    assert page.status_code == 502
    assert registry.calls.call_count == 3  # the first try and two retries, then it gives up
    assert session.scalars(select(CredentialOffer)).all() == []
    assert BSN not in page.text


def _keep_forms(html: str) -> list[dict[str, str]]:
    """The page's 'keep in my Kluis wallet' forms (offer id and transaction code)."""
    forms = []
    for chunk in html.split('action="/account/wallet/keep"')[1:]:
        fields = hidden_fields(chunk.split("</form>")[0])
        forms.append(fields)
    assert forms
    return forms


def test_the_registry_is_asked_with_no_transaction_open(
    runtime: Runtime, session: Session, municipality: MunicipalitySource, client: TestClient
) -> None:
    """The person link is committed before the look-up: no lock (the audit log's append lock
    on PostgreSQL) is held over a network call that may retry, and the vouching graph lock is
    then taken before this transaction appends to the audit log again."""
    resident = make_resident(runtime, session, client)
    url = start_municipality_login(session, municipality, resident.account_id, None)
    session.commit()
    open_during_lookup: list[bool] = []
    lookup = municipality.registry.lookup

    def watched(bsn: str) -> Any:
        open_during_lookup.append(session.in_transaction())
        return lookup(bsn)

    municipality.registry.lookup = watched  # type: ignore[method-assign]
    offers = finish_municipality_login(
        session,
        municipality,
        runtime.subject_keys,
        runtime.attestations,
        vouching=runtime.vouching,
        account_id=resident.account_id,
        callback=dict(parse_qsl(urlsplit(url).query)),
    )
    session.commit()

    assert open_during_lookup == [False]
    assert set(offers.offers) == {"postcode", "age"}
