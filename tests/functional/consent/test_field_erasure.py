"""Erasure of one field: the resident erases their name (or an attestation type); Kluis
deletes the data, withdraws the field's consents everywhere, and tells each platform that
received it with a CAEP token-claims-change SET, through the same request lifecycle as a
whole-account erasure (listed by `kluis erasure list|show` and the steward overview)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import jwt
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.outbox import Delivery
from attestations import AttestationConfig, create_offer
from attestations.models import CredentialOffer, IssuedCredential
from attestations.statuslist import record_issued
from audit.models import AuditEntry
from consent.ledger import active_claims
from identity.accounts.models import Account
from rights.erasure_cli import delete_account, erasure_cli
from rights.errors import UnknownField
from rights.field_erasure import execute_field_erasure
from rights.lifecycle import COMPLETED, PROPAGATING, refresh_erasure_states
from rights.models import ErasureDelivery, ErasureRequest
from rights.signals import TOKEN_CLAIMS_CHANGE
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.attestations import INPUTS
from tests.support.oidc import (
    RP,
    Resident,
    code_flow,
    exchange,
    hidden_fields,
    make_resident,
    make_rp,
)

EMAIL, NAME = "bewoner@example.org", "Klaas Vaessen"
A_EVENTS, B_EVENTS = "https://buurt.example.nl/events", "https://stem.example.com/events"


@pytest.fixture
def rps(session: Session) -> tuple[RP, RP]:
    a = make_rp(session, events_uri=A_EVENTS)
    b = make_rp(
        session,
        name="Stemwijzer",
        redirect_uris=["https://stem.example.com/cb"],
        post_logout_redirect_uris=[],
        events_uri=B_EVENTS,
    )
    return a, b


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, client, email=EMAIL, name=NAME)


@pytest.fixture
def tokens(client: TestClient, rps: tuple[RP, RP], resident: Resident) -> dict[str, dict[str, Any]]:
    """Platform A got e-mail and name, platform B only the e-mail."""
    out = {}
    for rp, allow in zip(rps, (["email", "name"], ["email"]), strict=True):
        query, verifier, _ = code_flow(client, rp, allow=allow)
        body = exchange(client, rp, query["code"], verifier).json()
        body["sub"] = jwt.decode(body["id_token"], options={"verify_signature": False})["sub"]
        out[rp.client_id] = body
    return out


def userinfo(client: TestClient, token: str) -> dict[str, Any]:
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def erase_on_page(client: TestClient, field: str) -> httpx.Response:
    page = client.get("/account/erase-field")
    assert page.status_code == 200 and f'value="{field}"' in page.text
    form = hidden_fields(page.text)
    return client.post("/account/erase-field", data={**form, "field": field})


def sets_of(session: Session, request_id: str) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.correlation_id == request_id)))


def test_resident_erases_their_name_and_only_the_platform_that_got_it_is_told(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    rps: tuple[RP, RP],
    resident: Resident,
    tokens: dict[str, dict[str, Any]],
) -> None:
    a, b = rps
    assert userinfo(client, tokens[b.client_id]["access_token"]).get("name") is None
    assert userinfo(client, tokens[a.client_id]["access_token"])["name"] == NAME
    response = erase_on_page(client, "name")
    assert response.status_code == 200
    (request,) = session.scalars(select(ErasureRequest))
    assert request.field == "name" and request.status == PROPAGATING
    assert request.id in response.text

    session.expire_all()
    account = session.get(Account, resident.account_id)
    assert account is not None and account.name_enc is None and account.email_enc is not None
    info = userinfo(client, tokens[a.client_id]["access_token"])
    assert "name" not in info and info["email"] == EMAIL  # the account and its e-mail stay
    assert "name" not in active_claims(session, resident.account_id, a.client_id)

    (delivery,) = sets_of(session, request.id)
    assert delivery.client_id == a.client_id and delivery.target_uri == A_EVENTS
    event = delivery.payload["events"][TOKEN_CLAIMS_CHANGE]
    assert event["claims"] == {"name": None}
    assert delivery.payload["sub_id"]["sub"] == tokens[a.client_id]["sub"]


def test_field_erasure_completes_once_every_platform_acknowledged(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    resident: Resident,
    tokens: dict[str, dict[str, Any]],
) -> None:
    request = execute_field_erasure(
        session,
        runtime.oidc,
        account_id=resident.account_id,
        field="name",
        requested_by="operator",
        actor="operator:cli",
    )
    session.commit()
    received: list[httpx.Request] = []

    def platform(req: httpx.Request) -> httpx.Response:
        received.append(req)
        return httpx.Response(202)

    with httpx.Client(transport=httpx.MockTransport(platform)) as http:
        runtime.outbox.deliver_due(http)
    (pushed,) = received
    assert pushed.headers["content-type"] == "application/secevent+jwt"
    header = jwt.get_unverified_header(pushed.content.decode())
    assert header["typ"] == "secevent+jwt"
    refresh_erasure_states(session)
    session.commit()
    session.refresh(request)
    assert request.status == COMPLETED
    links = session.scalars(select(ErasureDelivery).where(ErasureDelivery.request_id == request.id))
    assert all(link.acknowledged_at is not None for link in links)


def test_erasing_an_attestation_type_revokes_it_and_deletes_its_offers(
    runtime: Runtime, session: Session, resident: Resident
) -> None:
    config = AttestationConfig(TEST_ISSUER)
    now = dt.datetime.now(dt.UTC)
    for type_id in ("postcode", "age"):
        record_issued(
            session,
            config,
            account_id=resident.account_id,
            type_id=type_id,
            issued_at=now,
            expires_at=now + dt.timedelta(days=365),
        )
        create_offer(
            session,
            runtime.subject_keys,
            config,
            account_id=resident.account_id,
            type_id=type_id,
            claims=INPUTS[type_id],
            actor="operator:cli",
        )
    session.commit()
    execute_field_erasure(
        session,
        runtime.oidc,
        account_id=resident.account_id,
        field="postcode",
        requested_by="resident",
        actor="resident",
    )
    session.commit()
    issued = {r.type: r.revoked_at for r in session.scalars(select(IssuedCredential))}
    assert issued["postcode"] is not None and issued["age"] is None
    offers = {r.type for r in session.scalars(select(CredentialOffer))}
    assert offers == {"age"}


def test_unknown_field_is_refused_and_changes_nothing(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    with pytest.raises(UnknownField):
        execute_field_erasure(
            session,
            runtime.oidc,
            account_id=resident.account_id,
            field="email",
            requested_by="resident",
            actor="resident",
        )
    session.rollback()
    page = client.get("/account/erase-field")
    response = client.post(
        "/account/erase-field", data={**hidden_fields(page.text), "field": "email"}
    )
    assert response.status_code == 422
    assert session.scalars(select(ErasureRequest)).first() is None


def test_field_erasure_page_needs_login_and_csrf(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    forged = client.post("/account/erase-field", data={"field": "name", "csrf_token": "x"})
    assert forged.status_code == 403  # the forged CSRF token, before anything else is read
    client.cookies.clear()
    anonymous = client.get("/account/erase-field", follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    assert session.scalars(select(ErasureRequest)).first() is None


def test_audit_of_field_erasure_holds_no_personal_data(
    client: TestClient, session: Session, resident: Resident, tokens: dict[str, dict[str, Any]]
) -> None:
    erase_on_page(client, "name")
    entries = "".join(e.entry for e in session.scalars(select(AuditEntry)))
    assert NAME not in entries and EMAIL not in entries
    executed = [
        json.loads(e.entry)
        for e in session.scalars(select(AuditEntry).where(AuditEntry.event == "erasure.executed"))
    ]
    assert executed[0]["details"]["field"] == "name"


def test_operator_erases_one_field_by_cli_and_lists_it(
    runtime: Runtime, session: Session, resident: Resident, tokens: dict[str, dict[str, Any]]
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        delete_account, ["--email", EMAIL, "--field", "name", "--yes", "--json"], obj=runtime
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["field"] == "name" and created["deliveries"] == 1
    listed = json.loads(runner.invoke(erasure_cli, ["list", "--json"], obj=runtime).output)
    assert [(r["id"], r["field"]) for r in listed] == [(created["id"], "name")]
    shown = runner.invoke(erasure_cli, ["show", created["id"]], obj=runtime).output
    assert "field" in shown and "name" in shown
    session.expire_all()
    assert session.get(Account, resident.account_id) is not None
