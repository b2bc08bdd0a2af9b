"""A platform that received data but registered no `events_uri` cannot be told of an erasure by
Kluis. The request then stays open (never `completed`), the steward, the resident and
`kluis erasure show` see which platform waits for an operator, and `kluis erasure handled`
records how it was told, after which the request completes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from rights.erasure import execute_erasure
from rights.erasure_cli import erasure_cli
from rights.errors import ErasureError
from rights.field_erasure import execute_field_erasure
from rights.lifecycle import (
    COMPLETED,
    MANUAL,
    PROPAGATING,
    record_platform_handled,
    refresh_erasure_states,
)
from rights.models import ErasureRequest
from service.runtime import Runtime
from tests.support.oidc import RP, Resident, code_flow, make_resident, make_rp
from tests.support.steward import API, STEWARD_EMAIL, grant

SILENT = "Buurtkrant"  # a platform without an events endpoint


@pytest.fixture
def silent_rp(session: Session) -> RP:
    return make_rp(session, name=SILENT, redirect_uris=["https://krant.example.nl/cb"])


@pytest.fixture
def told_rp(session: Session) -> RP:
    return make_rp(session, events_uri="https://buurt.example.nl/events")


@pytest.fixture
def resident(
    client: TestClient, runtime: Runtime, session: Session, silent_rp: RP, told_rp: RP
) -> Resident:
    resident = make_resident(runtime, session, client)
    for rp in (silent_rp, told_rp):
        code_flow(client, rp, allow=["email", "name"])
    return resident


def erase(runtime: Runtime, session: Session, resident: Resident) -> ErasureRequest:
    request = execute_erasure(
        session,
        runtime.oidc,
        account_id=resident.account_id,
        requested_by="operator",
        actor="operator:cli",
    )
    session.commit()
    return request


def acknowledge_every_delivery(session: Session) -> None:
    """The platform with an events endpoint answers 2xx to everything queued."""
    from adapters.outbox import Delivery
    from core.db import utcnow

    for delivery in session.scalars(select(Delivery)):
        delivery.delivered_at = utcnow()
    refresh_erasure_states(session)
    session.commit()


def show(runtime: Runtime, request_id: str, *extra: str) -> Any:
    result = CliRunner().invoke(erasure_cli, ["show", request_id, *extra], obj=runtime)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_platform_without_events_uri_keeps_the_request_open_until_an_operator_records_it(
    runtime: Runtime, session: Session, resident: Resident, silent_rp: RP, told_rp: RP
) -> None:
    request = erase(runtime, session, resident)
    acknowledge_every_delivery(session)
    session.refresh(request)
    assert request.status == PROPAGATING  # every delivery acknowledged, one platform untold

    detail = json.loads(show(runtime, request.id, "--json"))
    [manual] = [p for p in detail["platforms"] if p["manual"]]
    assert manual["client_id"] == silent_rp.client_id and manual["kind"] == MANUAL
    text = show(runtime, request.id)
    assert "NOT told automatically" in text and silent_rp.client_id in text
    assert f"kluis erasure handled {request.id} --platform {silent_rp.client_id}" in text

    handled = CliRunner().invoke(
        erasure_cli,
        ["handled", request.id, "--platform", silent_rp.client_id, "--note", "per e-mail"],
        obj=runtime,
    )
    assert handled.exit_code == 0, handled.output
    assert "now completed" in handled.output
    session.expire_all()
    assert session.get(ErasureRequest, request.id).status == COMPLETED  # type: ignore[union-attr]
    events = [
        json.loads(e)["event"]
        for e in session.scalars(select(AuditEntry.entry).order_by(AuditEntry.idx))
    ]
    assert events[-2:] == ["erasure.platform_handled", "erasure.completed"]
    assert "handled by operator:cli" in show(runtime, request.id)


def test_accounts_delete_counts_only_queued_deliveries_and_names_the_untold_platform(
    runtime: Runtime, session: Session, resident: Resident, silent_rp: RP, told_rp: RP
) -> None:
    from rights.erasure_cli import delete_account

    done = CliRunner().invoke(
        delete_account, ["--account", resident.account_id, "--yes", "--json"], obj=runtime
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["deliveries"] == 1  # the told platform's account-purged SET
    assert result["manual"] == [silent_rp.client_id]


def test_recording_a_platform_as_handled_refuses_bad_input_and_changes_nothing(
    runtime: Runtime, session: Session, resident: Resident, silent_rp: RP, told_rp: RP
) -> None:
    request = erase(runtime, session, resident)
    before = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    cases = [
        (request.id, silent_rp.client_id, "mail aan beheer@krant.example.nl", "personal data"),
        (request.id, silent_rp.client_id, "   ", "say how"),
        ("nope", silent_rp.client_id, "per e-mail", "no open erasure request"),
        (request.id, "kc_unknown", "per e-mail", "nothing pending"),
    ]
    for request_id, client_id, note, message in cases:
        with pytest.raises(ErasureError, match=message):
            record_platform_handled(
                session, request_id=request_id, client_id=client_id, actor="op", note=note
            )
        session.rollback()
    after = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    assert after == before
    assert session.get(ErasureRequest, request.id).status == PROPAGATING  # type: ignore[union-attr]


def test_the_resident_and_the_steward_see_the_platform_that_waits_for_an_operator(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident, silent_rp: RP
) -> None:
    page = client.get("/account/delete")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/account/delete",
        data={"confirm": "yes", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    done = client.get(response.headers["location"])
    assert 'id="manual-platforms"' in done.text and f"<li>{SILENT}</li>" in done.text

    steward = make_resident(runtime, session, client, email=STEWARD_EMAIL, name="Sam Steward")
    grant(runtime, session, steward.account_id)
    [line] = client.get(f"{API}/erasure").json()["requests"]
    waiting = [p for p in line["platforms"] if p["manual"] and p["handled_by"] is None]
    assert [p["name"] for p in waiting] == [SILENT]
    html = client.get("/steward/erasure").text
    assert 'data-waiting-for-operator="true"' in html and SILENT in html


def test_a_field_erasure_also_waits_for_the_platform_without_events_uri(
    runtime: Runtime, session: Session, resident: Resident, silent_rp: RP, told_rp: RP
) -> None:
    request = execute_field_erasure(
        session,
        runtime.oidc,
        account_id=resident.account_id,
        field="name",
        requested_by="resident",
        actor="resident",
    )
    session.commit()
    acknowledge_every_delivery(session)
    session.refresh(request)
    assert request.status == PROPAGATING
    executed = session.scalars(
        select(AuditEntry.entry).where(AuditEntry.event == "erasure.executed")
    ).one()
    assert json.loads(executed)["details"]["manual"] == [silent_rp.client_id]
