"""The steward area, access: only accounts with the steward role (browser session, or for
the API a `steward`-scoped access token) get in; everyone else gets the 404 of an unknown path."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from identity.accounts.roles import STEWARD, has_role, revoke_role
from identity.oidc.clients import DEFAULT_SCOPE
from service.runtime import Runtime
from tests.support.oidc import RP, Resident, code_flow, exchange, make_resident, make_rp
from tests.support.steward import (
    API,
    API_PATHS,
    PAGES,
    grant,
    steward_reads,
)

# --- access ----------------------------------------------------------------------------------


def test_has_role_only_for_active_accounts_holding_it(runtime: Runtime, session: Session) -> None:
    someone = make_resident(runtime, session, email="a@example.org")
    assert not has_role(session, someone.account_id, STEWARD)
    assert not has_role(session, None, STEWARD) and not has_role(session, "nope", STEWARD)
    grant(runtime, session, someone.account_id)
    assert has_role(session, someone.account_id, STEWARD)
    assert not has_role(session, someone.account_id, "admin")
    assert revoke_role(session, runtime.subject_keys, someone.account_id, STEWARD, "operator:cli")
    assert not has_role(session, someone.account_id, STEWARD)


def test_role_changes_are_audited_without_personal_data(runtime: Runtime, session: Session) -> None:
    someone = make_resident(runtime, session, email="a@example.org")
    grant(runtime, session, someone.account_id)
    revoke_role(session, runtime.subject_keys, someone.account_id, STEWARD, "operator:cli")
    events = [e.event for e in session.scalars(select(AuditEntry))]
    assert "account.role_granted" in events and "account.role_revoked" in events
    assert "a@example.org" not in "".join(e.entry for e in session.scalars(select(AuditEntry)))


@pytest.mark.parametrize("path", API_PATHS + PAGES)
def test_logged_in_resident_without_role_gets_404(
    client: TestClient, runtime: Runtime, session: Session, path: str
) -> None:
    make_resident(runtime, session, client, email="a@example.org")
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 404
    unknown = client.get("/steward/api/no-such-thing")
    assert response.json() == {**unknown.json(), "instance": response.json()["instance"]}
    assert steward_reads(session) == []


@pytest.mark.parametrize("path", API_PATHS)
def test_api_without_credentials_or_with_a_bad_token_gets_404(
    client: TestClient, path: str
) -> None:
    assert client.get(path).status_code == 404
    bad = client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_a_visitor_who_is_not_logged_in_to_the_login_page(
    client: TestClient, path: str
) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?return_to=/steward/")


def test_revoking_the_role_ends_access_at_once(
    client: TestClient, runtime: Runtime, session: Session, steward: Resident
) -> None:
    assert client.get(f"{API}/erasure").status_code == 200
    revoke_role(session, runtime.subject_keys, steward.account_id, STEWARD, "operator:cli")
    session.commit()
    assert client.get(f"{API}/erasure").status_code == 404
    assert client.get("/steward/erasure").status_code == 404


# --- the steward scope -----------------------------------------------------------------------


def _steward_tool(session: Session) -> RP:
    return make_rp(session, name="Stewardtool", scope=f"{DEFAULT_SCOPE} steward")


def _token(client: TestClient, rp: RP) -> dict[str, str]:
    query, verifier, _ = code_flow(client, rp, allow=[], scope="openid steward")
    response = exchange(client, rp, query["code"], verifier)
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def test_steward_scope_token_reads_the_api_without_a_cookie(
    client: TestClient, session: Session, steward: Resident
) -> None:
    tokens = _token(client, _steward_tool(session))
    assert "steward" in tokens["scope"].split()
    client.cookies.clear()
    response = client.get(
        f"{API}/erasure", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    assert steward_reads(session)[-1]["details"] == {
        "what": "erasure.overview",
        "via": "token",
        "count": 0,
    }


def test_steward_scope_is_not_granted_to_an_account_without_the_role(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    make_resident(runtime, session, client, email="a@example.org")
    tokens = _token(client, _steward_tool(session))
    assert "steward" not in tokens.get("scope", "").split()
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get(f"{API}/erasure", headers=headers).status_code == 404


def test_steward_scope_is_not_granted_to_a_client_not_registered_for_it(
    client: TestClient, session: Session, steward: Resident
) -> None:
    tokens = _token(client, make_rp(session))
    assert "steward" not in tokens.get("scope", "").split()
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get(f"{API}/erasure", headers=headers).status_code == 404


def test_a_token_without_the_steward_scope_does_not_fall_back_to_the_cookie(
    client: TestClient, session: Session, steward: Resident
) -> None:
    rp = make_rp(session)
    query, verifier, _ = code_flow(client, rp, allow=["email"])
    tokens = exchange(client, rp, query["code"], verifier).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get(f"{API}/erasure", headers=headers).status_code == 404


def test_token_stops_working_when_the_role_is_revoked(
    client: TestClient, runtime: Runtime, session: Session, steward: Resident
) -> None:
    tokens = _token(client, _steward_tool(session))
    revoke_role(session, runtime.subject_keys, steward.account_id, STEWARD, "operator:cli")
    session.commit()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get(f"{API}/erasure", headers=headers).status_code == 404
