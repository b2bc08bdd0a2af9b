"""Erasure also reaches what is not an account row: the resident's pending authorization
requests (started at a platform, never finished) and the development mail outbox's copies of
mail to their address."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.mail import FileOutbox
from identity.oidc.models import AuthorizationRequest
from rights.erasure import execute_erasure
from service.runtime import Runtime
from tests.support.oidc import Resident, auth_params, make_resident, make_rp, pkce_pair

EMAIL, OTHER = "bewoner@example.org", "buurvrouw@example.org"


def _erase(runtime: Runtime, session: Session, resident: Resident) -> None:
    execute_erasure(
        session,
        runtime.oidc,
        account_id=resident.account_id,
        requested_by="operator",
        actor="operator:cli",
        accounts=runtime.accounts,
    )
    session.commit()


def _start_authorization(client: TestClient, session: Session, name: str) -> str:
    rp = make_rp(session, name=name)
    _, challenge = pkce_pair()
    params = auth_params(rp, challenge, prompt="consent")
    response = client.get("/authorize", params=params, follow_redirects=False)
    location = response.headers["location"]
    assert location.startswith("/authorize/continue/")
    assert client.get(location).status_code == 200  # the consent page, left unanswered
    return location.rsplit("/", 1)[1]


def test_erasure_deletes_the_residents_pending_authorization_requests_only(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    resident = make_resident(runtime, session, client, email=EMAIL)
    mine = _start_authorization(client, session, "Buurt")
    row = session.get(AuthorizationRequest, mine)
    assert row is not None and row.account_id == resident.account_id
    client.cookies.clear()
    make_resident(runtime, session, client, email=OTHER)
    theirs = _start_authorization(client, session, "Stem")
    _erase(runtime, session, resident)
    session.expire_all()
    assert session.get(AuthorizationRequest, mine) is None
    assert session.get(AuthorizationRequest, theirs) is not None


def test_a_request_started_before_login_is_linked_once_the_resident_continues_it(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    rp = make_rp(session)
    _, challenge = pkce_pair()
    response = client.get("/authorize", params=auth_params(rp, challenge), follow_redirects=False)
    assert response.headers["location"].startswith("/login")
    (row,) = session.scalars(select(AuthorizationRequest))
    assert row.account_id is None
    resident = make_resident(runtime, session, client, email=EMAIL)
    client.get(f"/authorize/continue/{row.id}", follow_redirects=False)
    session.refresh(row)
    assert row.account_id == resident.account_id


def test_erasure_removes_mail_to_the_resident_from_the_development_outbox(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    mailer = runtime.accounts.mailer
    assert isinstance(mailer, FileOutbox)
    resident = make_resident(runtime, session, email=EMAIL)
    mailer.send(EMAIL, "Bevestig je e-mailadres", "https://kluis.invalid/verify?token=x")
    mailer.send(OTHER, "Voor de buurvrouw", "hallo")
    _erase(runtime, session, resident)
    outbox: Path = mailer.directory
    contents = b"".join(p.read_bytes() for p in outbox.glob("*.eml"))
    assert EMAIL.encode() not in contents and OTHER.encode() in contents
