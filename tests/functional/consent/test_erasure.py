"""Erasure: executed at once (sessions, grants, tokens, attestations, data key, rows), then
propagated to every platform that received data (RISC account-purged SET + back-channel
logout, each with that platform's own pairwise sub) through the outbox, until every platform
acknowledged (completed) or the due date passed (overdue)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import httpx
import jwt
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.outbox import Delivery
from audit.models import AuditEntry
from consent.models import ConsentRecord
from identity.accounts.models import Account, LoginFailure
from identity.oidc.logout import BACKCHANNEL_EVENT
from identity.oidc.models import Grant, Token
from keys import SubjectKeyDestroyed
from rights.erasure import execute_erasure
from rights.erasure_cli import delete_account, erasure_cli
from rights.errors import ErasureError
from rights.lifecycle import COMPLETED, OVERDUE, PROPAGATING, check_reason, refresh_erasure_states
from rights.models import ErasureDelivery, ErasureRequest
from rights.signals import ACCOUNT_PURGED
from service.models import Base
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.oidc import RP, Resident, code_flow, exchange, make_resident, make_rp

EMAIL = "bewoner@example.org"
NAME = "Klaas Vaessen"
A_EVENTS, A_LOGOUT = "https://buurt.example.nl/events", "https://buurt.example.nl/backchannel"
B_EVENTS = "https://stem.example.com/events"


@pytest.fixture
def rp_a(session: Session) -> RP:
    return make_rp(session, events_uri=A_EVENTS, backchannel_logout_uri=A_LOGOUT)


@pytest.fixture
def rp_b(session: Session) -> RP:
    return make_rp(
        session,
        name="Stemwijzer",
        redirect_uris=["https://stem.example.com/cb"],
        post_logout_redirect_uris=[],
        events_uri=B_EVENTS,
    )


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, client, email=EMAIL, name=NAME)


@pytest.fixture
def signed_in(
    client: TestClient, rp_a: RP, rp_b: RP, resident: Resident
) -> dict[str, dict[str, Any]]:
    """The resident logged in at both platforms, sharing e-mail and name."""
    out = {}
    for rp in (rp_a, rp_b):
        query, verifier, _ = code_flow(client, rp, allow=["email", "name"])
        body = exchange(client, rp, query["code"], verifier).json()
        id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
        body["sub"], body["sid"] = id_token["sub"], id_token.get("sid")
        out[rp.client_id] = body
    return out


def erase(runtime: Runtime, session: Session, resident: Resident, **kw: Any) -> ErasureRequest:
    request = execute_erasure(
        session,
        runtime.oidc,
        account_id=resident.account_id,
        requested_by=kw.pop("requested_by", "operator"),
        actor=kw.pop("actor", "operator:cli"),
        **kw,
    )
    session.commit()
    return request


def push(runtime: Runtime, answers: dict[str, list[int]]) -> list[httpx.Request]:
    """One outbox round against mock platforms answering from `answers` (by URL)."""
    received: list[httpx.Request] = []

    def platform(request: httpx.Request) -> httpx.Response:
        received.append(request)
        codes = answers[str(request.url)]
        return httpx.Response(codes.pop(0) if len(codes) > 1 else codes[0])

    with httpx.Client(transport=httpx.MockTransport(platform)) as http:
        runtime.outbox.deliver_due(http)
    return received


def make_due_again(session: Session) -> None:
    for row in session.scalars(select(Delivery).where(Delivery.delivered_at.is_(None))):
        row.next_attempt_at = row.created_at
    session.commit()


def verified(client: TestClient, token: str, audience: str, typ: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    assert header["typ"] == typ
    jwks = jwt.PyJWKSet.from_dict(client.get("/jwks.json").json())
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=["RS256", "ES256"], audience=audience, issuer=TEST_ISSUER
    )
    return claims


def test_erasure_leaves_no_readable_personal_data_and_tokens_inactive(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    rp_a: RP,
    rp_b: RP,
    resident: Resident,
    signed_in: dict[str, dict[str, Any]],
) -> None:
    account = session.get(Account, resident.account_id)
    assert account is not None and account.email_enc is not None
    ciphertext = account.email_enc
    request = erase(runtime, session, resident, reason="resident asked at the desk")
    assert request.status == PROPAGATING
    assert request.due_at - request.received_at == dt.timedelta(days=30)

    for rp in (rp_a, rp_b):
        for kind in ("access_token", "refresh_token"):
            answer = client.post(
                "/introspect", data={"token": signed_in[rp.client_id][kind]}, auth=rp.basic()
            )
            assert answer.json() == {"active": False}
    with pytest.raises(SubjectKeyDestroyed):
        runtime.subject_keys.decrypt(session, resident.account_id, "email", ciphertext)
    assert session.get(Account, resident.account_id) is None
    for model in (ConsentRecord, Grant, Token):
        assert session.scalars(select(model)).first() is None, model
    # no row of any table holds the resident's e-mail address or name in plaintext
    needles = (EMAIL.encode(), NAME.encode(), b"Vaessen")
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            for value in row:
                blob = (
                    value if isinstance(value, bytes) else json.dumps(value, default=str).encode()
                )
                assert not any(n in blob for n in needles), f"{table.name}: {value!r}"
    # the session cookie no longer logs anybody in
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_each_platform_gets_a_verifiable_purge_set_and_logout_token_with_its_own_sub(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    rp_a: RP,
    rp_b: RP,
    resident: Resident,
    signed_in: dict[str, dict[str, Any]],
) -> None:
    erase(runtime, session, resident)
    received = push(runtime, {A_EVENTS: [202], A_LOGOUT: [200], B_EVENTS: [202]})
    by_url = {str(r.url): r for r in received}
    assert set(by_url) == {A_EVENTS, A_LOGOUT, B_EVENTS}
    sub_a, sub_b = signed_in[rp_a.client_id]["sub"], signed_in[rp_b.client_id]["sub"]
    assert sub_a != sub_b  # pairwise: different sectors, different subjects
    for url, rp, sub in ((A_EVENTS, rp_a, sub_a), (B_EVENTS, rp_b, sub_b)):
        request = by_url[url]
        assert request.headers["content-type"] == "application/secevent+jwt"
        claims = verified(client, request.content.decode(), rp.client_id, "secevent+jwt")
        assert claims["sub_id"] == {"format": "iss_sub", "iss": TEST_ISSUER, "sub": sub}
        assert claims["events"] == {ACCOUNT_PURGED: {}}
        assert "exp" not in claims and claims["jti"]
    # one token for every session of the resident there (sub alone), and one for the session
    # the platform knows by the `sid` of its ID token (what RPs such as mod_auth_openidc match)
    logouts = [
        verified(
            client, re.sub(r"^logout_token=", "", r.content.decode()), rp_a.client_id, "logout+jwt"
        )
        for r in received
        if str(r.url) == A_LOGOUT
    ]
    assert all(c["sub"] == sub_a and BACKCHANNEL_EVENT in c["events"] for c in logouts)
    sid = signed_in[rp_a.client_id]["sid"]
    assert sid and sorted(str(c.get("sid")) for c in logouts) == sorted([str(None), sid])


def test_failing_platform_is_retried_then_the_request_completes(
    runtime: Runtime,
    session: Session,
    rp_a: RP,
    rp_b: RP,
    resident: Resident,
    signed_in: dict[str, dict[str, Any]],
) -> None:
    request = erase(runtime, session, resident)
    answers = {A_EVENTS: [503, 202], A_LOGOUT: [200], B_EVENTS: [202]}
    first = push(runtime, answers)
    assert sorted(str(r.url) for r in first) == sorted([A_EVENTS, A_LOGOUT, A_LOGOUT, B_EVENTS])
    assert refresh_erasure_states(session) == []
    session.refresh(request)
    assert request.status == PROPAGATING
    links = {(d.client_id, d.kind): d for d in session.scalars(select(ErasureDelivery))}
    assert len(links) == 3 and links[(rp_a.client_id, "security_event")].acknowledged_at is None
    make_due_again(session)
    second = push(runtime, answers)
    assert [str(r.url) for r in second] == [A_EVENTS]
    failed = next(r for r in first if str(r.url) == A_EVENTS)
    first_jti = jwt.decode(failed.content, options={"verify_signature": False})
    retried = jwt.decode(second[0].content, options={"verify_signature": False})
    assert first_jti["jti"] == retried["jti"]  # never duplicated in effect
    assert refresh_erasure_states(session) == [request]
    session.commit()
    session.refresh(request)
    assert request.status == COMPLETED and request.completed_at is not None
    events = list(
        session.scalars(
            select(AuditEntry.event)
            .where(AuditEntry.event.like("erasure.%"))
            .order_by(AuditEntry.idx)
        )
    )
    assert events == ["erasure.received", "erasure.executed", "erasure.completed"]


def test_platform_that_never_acknowledges_makes_the_request_overdue(
    runtime: Runtime,
    session: Session,
    rp_a: RP,
    rp_b: RP,
    resident: Resident,
    signed_in: dict[str, dict[str, Any]],
) -> None:
    request = erase(runtime, session, resident)
    push(runtime, {A_EVENTS: [202], A_LOGOUT: [200], B_EVENTS: [500]})
    almost = request.due_at - dt.timedelta(seconds=1)
    assert refresh_erasure_states(session, almost) == []
    assert refresh_erasure_states(session, request.due_at + dt.timedelta(seconds=1)) == [request]
    session.commit()
    session.refresh(request)
    assert request.status == OVERDUE
    overdue = session.scalars(select(AuditEntry).where(AuditEntry.event == "erasure.overdue")).one()
    assert rp_b.client_id in overdue.entry and rp_a.client_id not in overdue.entry
    # once the platform is back, the request still completes
    make_due_again(session)
    push(runtime, {B_EVENTS: [202]})
    assert refresh_erasure_states(session, request.due_at + dt.timedelta(days=1)) == [request]
    assert request.status == COMPLETED


def test_a_resident_no_platform_got_data_about_completes_at_once(
    runtime: Runtime, session: Session, resident: Resident
) -> None:
    # (a platform without an events endpoint keeps it open: test_erasure_manual.py)
    request = erase(runtime, session, resident)
    assert request.status == COMPLETED


def test_reason_with_personal_data_is_refused_and_nothing_changes(
    runtime: Runtime, session: Session, resident: Resident
) -> None:
    for reason in ("op verzoek van bewoner@example.org", "woont op 1087 AB", "geboren 17-05-1990"):
        with pytest.raises(ErasureError):
            erase(runtime, session, resident, reason=reason)
    assert session.get(Account, resident.account_id) is not None
    assert session.scalars(select(ErasureRequest)).first() is None
    assert check_reason("  verhuisd   naar elders ") == "verhuisd naar elders"


def test_cli_deletes_by_email_and_lists_and_shows_requests(
    runtime: Runtime,
    session: Session,
    rp_a: RP,
    rp_b: RP,
    resident: Resident,
    signed_in: dict[str, dict[str, Any]],
) -> None:
    runtime.accounts.limiter.reserve(session, EMAIL, "203.0.113.9")  # a failed login
    session.commit()
    runner = CliRunner()
    refused = runner.invoke(
        delete_account, ["--email", EMAIL, "--reason", "mail to x@y.nl", "--yes"], obj=runtime
    )
    assert refused.exit_code == 1 and "personal data" in refused.output
    done = runner.invoke(
        delete_account,
        ["--email", EMAIL.upper(), "--reason", "verhuisd", "--yes", "--json"],
        obj=runtime,
    )
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    # A: the purge event and two logout tokens (sub alone, sub + sid); B: the purge event
    assert result["status"] == PROPAGATING and result["deliveries"] == 4
    failures = session.scalars(select(LoginFailure.scope)).all()
    assert failures == ["ip"]  # the keyed hash of the e-mail address is gone
    again = runner.invoke(delete_account, ["--email", EMAIL, "--yes"], obj=runtime)
    assert again.exit_code == 1 and "no such account" in again.output
    listed = json.loads(runner.invoke(erasure_cli, ["list", "--json"], obj=runtime).output)
    assert [r["id"] for r in listed] == [result["id"]]
    shown = runner.invoke(erasure_cli, ["show", result["id"], "--json"], obj=runtime)
    detail = json.loads(shown.output)
    assert detail["due_at"] == result["due_at"] and detail["reason"] == "verhuisd"
    kinds = sorted((p["client_id"], p["kind"]) for p in detail["platforms"])
    assert kinds == sorted(
        [
            (rp_a.client_id, "backchannel_logout"),
            (rp_a.client_id, "backchannel_logout"),
            (rp_a.client_id, "security_event"),
            (rp_b.client_id, "security_event"),
        ]
    )
    assert all(p["acknowledged_at"] is None for p in detail["platforms"])
    text = runner.invoke(erasure_cli, ["show", result["id"]], obj=runtime).output
    assert "pending" in text and EMAIL not in text
    assert runner.invoke(erasure_cli, ["show", "nope"], obj=runtime).exit_code == 1


def test_resident_deletes_own_account_after_confirmation(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    page = client.get("/account/delete")
    assert page.status_code == 200 and 'id="delete-form"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    forged = client.post(
        "/account/delete", data={"confirm": "yes", "csrf_token": "x"}, follow_redirects=False
    )
    assert forged.status_code == 403 and session.get(Account, resident.account_id) is not None
    response = client.post(
        "/account/delete",
        data={"confirm": "yes", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and "kluis_session=" in response.headers["set-cookie"]
    done = client.get(response.headers["location"])
    assert done.status_code == 200 and "Je account is verwijderd" in done.text
    assert session.get(Account, resident.account_id) is None
    request = session.scalars(select(ErasureRequest)).one()
    assert request.requested_by == "resident" and request.id in done.text


def test_delete_page_requires_login(client: TestClient) -> None:
    response = client.get("/account/delete", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
