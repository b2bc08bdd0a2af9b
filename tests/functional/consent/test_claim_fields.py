"""Every claim leaves under the consent of exactly one field: withdrawing "Je naam" stops the
real name in every claim (it used to go on as `preferred_username`), a claim derived from a
field (`email_verified` from `email`) follows that field's consent, and the export shows which
fields each release came from."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from identity.accounts.models import Account
from identity.oidc.claims import SCOPES, ClaimRegistry, field_of
from service.runtime import Runtime
from tests.support.oidc import (
    RP,
    Resident,
    auth_params,
    code_flow,
    exchange,
    make_resident,
    make_rp,
    pkce_pair,
)

NAME = "Klaas Vaessen"
PAGE = "/account/consents"
_CHECKBOX = re.compile(r'type="checkbox" id="claim-[^"]+" name="claims" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, client, name=NAME)


def boxes_of_page(client: TestClient, rp: RP) -> list[str]:
    """The checkboxes the consent page shows for `openid email profile`."""
    _, challenge = pkce_pair()
    response = client.get("/authorize", params=auth_params(rp, challenge), follow_redirects=False)
    page = client.get(response.headers["location"])
    boxes = _CHECKBOX.findall(page.text)
    assert boxes, page.text
    return boxes


def test_the_consent_page_says_what_the_resident_has_nothing_of_yet(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    """A resident with a name but no proof of age: ticking the age shares nothing now, and
    the page says so beside it (and beside nothing else)."""
    _, challenge = pkce_pair()
    params = auth_params(rp, challenge, scope="openid profile age")
    for lang, note in (("nl", "heb je nog niet bij Kluis"), ("en", "not at Kluis yet")):
        response = client.get("/authorize", params=params, follow_redirects=False)
        page = client.get(response.headers["location"] + f"?lang={lang}").text
        labels = dict(re.findall(r'<label for="claim-([^"]+)"[^>]*>(.*?)</label>', page, re.S))
        assert set(labels) == {"age_over_18", "name", "preferred_username"}, labels
        assert note in labels["age_over_18"]
        assert note not in labels["name"] and note not in labels["preferred_username"]


def test_a_failing_claim_source_leaves_the_consent_page_asking_without_notes(
    client: TestClient, runtime: Runtime, rp: RP, resident: Resident
) -> None:
    def broken(_session: Session, _account_id: str) -> dict[str, Any]:
        raise ValueError("a stored credential that cannot be read")

    runtime.oidc.claims.register_source(("age_over_18",), broken)
    _, challenge = pkce_pair()
    params = auth_params(rp, challenge, scope="openid profile age")
    response = client.get("/authorize", params=params, follow_redirects=False)
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and 'value="age_over_18"' in page.text
    assert "heb je nog niet bij Kluis" not in page.text


def everything_ticked(client: TestClient, rp: RP) -> dict[str, Any]:
    """A code flow for `openid email profile` that ticks every box the consent page shows."""
    query, verifier, _ = code_flow(client, rp, allow=boxes_of_page(client, rp))
    body: dict[str, Any] = exchange(client, rp, query["code"], verifier).json()
    return body


def userinfo(client: TestClient, access_token: str) -> dict[str, Any]:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def withdraw_on_page(client: TestClient, rp: RP, field: str) -> None:
    match = _CSRF.search(client.get(PAGE).text)
    assert match
    response = client.post(
        PAGE + "/withdraw",
        data={"client_id": rp.client_id, "claim": field, "csrf_token": match.group(1)},
        follow_redirects=False,
    )
    assert response.headers["location"] == PAGE + "?status=withdrawn"


def test_the_real_name_stops_in_every_claim_once_its_consent_is_withdrawn(
    client: TestClient, session: Session, rp: RP, resident: Resident
) -> None:
    tokens = everything_ticked(client, rp)
    before = userinfo(client, tokens["access_token"])
    assert before["name"] == NAME
    withdraw_on_page(client, rp, "name")

    after = userinfo(client, tokens["access_token"])
    assert "name" not in after
    assert all("Klaas" not in str(value) for value in after.values()), after
    account = session.get(Account, resident.account_id)
    assert account is not None  # the user name stays, the platform's own (never the handle)
    assert after["preferred_username"] == before["preferred_username"] != account.handle


def test_the_consent_page_asks_once_per_field_and_a_derived_claim_follows_its_field(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    boxes = boxes_of_page(client, rp)
    assert sorted(boxes) == ["email", "name", "preferred_username"]  # no email_verified box
    tokens = everything_ticked(client, rp)
    assert userinfo(client, tokens["access_token"])["email_verified"] is True
    withdraw_on_page(client, rp, "email")
    after = userinfo(client, tokens["access_token"])
    assert "email" not in after and "email_verified" not in after


def test_the_export_names_the_field_of_every_released_claim(
    client: TestClient, rp: RP, resident: Resident
) -> None:
    tokens = everything_ticked(client, rp)
    userinfo(client, tokens["access_token"])
    export = client.get("/account/export").json()
    released = [d for d in export["disclosures"] if d["channel"] == "userinfo"]
    assert released, export["disclosures"]
    last = released[-1]
    assert last["claims"] == ["email", "email_verified", "name", "preferred_username"]
    assert last["fields"] == ["email", "name", "preferred_username"]


def test_every_known_claim_maps_to_one_field_of_its_own_scope() -> None:
    registry = ClaimRegistry()
    for scope, names in SCOPES.items():
        for name in names:
            assert registry.known(name)
            assert field_of(name) in names, (scope, name)  # a field its own scope asks for


def test_the_required_hint_appears_only_when_something_is_required(
    client: TestClient, session: Session, runtime: Runtime
) -> None:
    import json

    from tests.support.oidc import auth_params, pkce_pair

    rp = make_rp(session, name="Hint platform")
    make_resident(runtime, session, client)

    def consent_page(**extra: str) -> str:
        _, challenge = pkce_pair()
        started = client.get(
            "/authorize", params=auth_params(rp, challenge, **extra), follow_redirects=False
        )
        return client.get(started.headers["location"]).text

    assert 'id="required-help"' not in consent_page()
    essential = json.dumps({"userinfo": {"email": {"essential": True}}})
    page = consent_page(claims=essential)
    assert 'id="required-help"' in page and "(nodig)" in page
