"""The steward area: access only for accounts with the steward role (browser session, or for
the API a `steward`-scoped access token), 404 for everyone else, every read audited, and the
overviews hold no personal data."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.checkpoint import open_checkpoint
from consent.erasure import execute_erasure
from consent.merkle import verify_consistency, verify_inclusion
from consent.models import AuditEntry
from identity.accounts.cli import accounts_cli
from identity.accounts.models import AccountRole
from identity.accounts.roles import STEWARD, grant_role, has_role, revoke_role
from identity.oidc.clients import DEFAULT_SCOPE
from service.runtime import Runtime
from tests.support.oidc import RP, Resident, code_flow, exchange, make_resident, make_rp

STEWARD_EMAIL = "steward@example.org"
RESIDENT_EMAIL = "bewoner@example.org"
API = "/steward/api"
API_PATHS = [
    f"{API}/audit/entries",
    f"{API}/audit/proofs/inclusion?index=0",
    f"{API}/audit/proofs/consistency?old_size=1",
    f"{API}/audit/checkpoints",
    f"{API}/audit/checkpoints/latest",
    f"{API}/audit/export",
    f"{API}/erasure",
    f"{API}/consents",
]
PAGES = ["/steward/erasure", "/steward/consents", "/steward/audit"]


def _grant(runtime: Runtime, session: Session, account_id: str) -> None:
    grant_role(session, runtime.subject_keys, account_id, STEWARD, "operator:cli")
    session.commit()


@pytest.fixture
def resident_with_consent(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    rp = make_rp(session, events_uri="https://buurt.example.nl/events")
    resident = make_resident(runtime, session, client, email=RESIDENT_EMAIL, name="Jan Smit")
    code_flow(client, rp, allow=["email", "name"])
    client.cookies.clear()
    return resident


@pytest.fixture
def steward(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    found = make_resident(runtime, session, client, email=STEWARD_EMAIL, name="Sam Steward")
    _grant(runtime, session, found.account_id)
    return found


def _reads(session: Session) -> list[dict[str, object]]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.event == "steward.read"))
    return [json.loads(r.entry) for r in rows]


# --- access ----------------------------------------------------------------------------------


def test_has_role_only_for_active_accounts_holding_it(runtime: Runtime, session: Session) -> None:
    someone = make_resident(runtime, session, email="a@example.org")
    assert not has_role(session, someone.account_id, STEWARD)
    assert not has_role(session, None, STEWARD) and not has_role(session, "nope", STEWARD)
    _grant(runtime, session, someone.account_id)
    assert has_role(session, someone.account_id, STEWARD)
    assert not has_role(session, someone.account_id, "admin")
    assert revoke_role(session, runtime.subject_keys, someone.account_id, STEWARD, "operator:cli")
    assert not has_role(session, someone.account_id, STEWARD)


def test_role_changes_are_audited_without_personal_data(runtime: Runtime, session: Session) -> None:
    someone = make_resident(runtime, session, email="a@example.org")
    _grant(runtime, session, someone.account_id)
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
    assert _reads(session) == []


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
    assert _reads(session)[-1]["details"] == {
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


# --- what stewards read ----------------------------------------------------------------------


def test_entries_filter_by_event_subject_and_time_and_each_read_is_audited(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    resident_with_consent: Resident,
    steward: Resident,
) -> None:
    ref = runtime.subject_keys.reference(session, resident_with_consent.account_id)
    given = client.get(f"{API}/audit/entries", params={"event": "consent.given"}).json()
    assert given["entries"] and all(
        e["entry"]["event"] == "consent.given" for e in given["entries"]
    )
    mine = client.get(f"{API}/audit/entries", params={"subject": ref}).json()["entries"]
    assert mine and all(e["entry"]["subject"] == ref for e in mine)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert client.get(f"{API}/audit/entries", params={"since": future}).json()["entries"] == []
    past = client.get(f"{API}/audit/entries", params={"until": future, "limit": 2}).json()
    assert len(past["entries"]) == 2 and past["next_after"] == past["entries"][-1]["index"]
    page2 = client.get(f"{API}/audit/entries", params={"after": past["next_after"]}).json()
    assert page2["entries"][0]["index"] == past["next_after"] + 1
    reads = _reads(session)
    assert len(reads) == 5
    assert reads[1]["details"]["filters"] == ["subject"]  # type: ignore[index]
    steward_ref = runtime.subject_keys.reference(session, steward.account_id)
    assert {r["actor"] for r in reads} == {f"steward:{steward_ref}"}
    assert all(r["subject"] is None for r in reads)  # filter values are not copied


def test_entries_reject_malformed_filters(client: TestClient, steward: Resident) -> None:
    assert client.get(f"{API}/audit/entries", params={"subject": "x" * 64}).status_code == 422
    assert client.get(f"{API}/audit/entries", params={"event": "DROP TABLE"}).status_code == 422
    naive = client.get(f"{API}/audit/entries", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422


def test_inclusion_and_consistency_proofs_verify_against_a_signed_checkpoint(
    client: TestClient, runtime: Runtime, session: Session, steward: Resident
) -> None:
    first = runtime.audit.checkpoint(session)
    session.commit()
    old = client.get(f"{API}/audit/checkpoints/latest").json()
    runtime.audit.checkpoint(session)
    session.commit()
    latest = client.get(f"{API}/audit/checkpoints/latest").json()
    assert latest["tree_size"] > old["tree_size"] == first.tree_size
    cp = open_checkpoint(latest["note"], [runtime.audit.verifier], origin=runtime.audit.origin)
    size = cp.size

    proof = client.get(
        f"{API}/audit/proofs/inclusion", params={"index": 0, "tree_size": size}
    ).json()
    entry = session.get(AuditEntry, 0)
    assert entry is not None
    verify_inclusion(
        0, size, entry.leaf_hash, [base64.b64decode(p) for p in proof["proof"]], cp.root_hash
    )
    consistency = client.get(
        f"{API}/audit/proofs/consistency", params={"old_size": old["tree_size"], "tree_size": size}
    ).json()
    old_cp = open_checkpoint(old["note"], [runtime.audit.verifier], origin=runtime.audit.origin)
    verify_consistency(
        old_cp.size,
        size,
        old_cp.root_hash,
        cp.root_hash,
        [base64.b64decode(p) for p in consistency["proof"]],
    )
    listed = client.get(f"{API}/audit/checkpoints").json()["checkpoints"]
    assert [c["tree_size"] for c in listed] == sorted(c["tree_size"] for c in listed)
    assert len(listed) == 2


def test_proofs_for_entries_beyond_the_tree_are_404(client: TestClient, steward: Resident) -> None:
    assert client.get(f"{API}/audit/proofs/inclusion", params={"index": 10**6}).status_code == 404
    assert (
        client.get(f"{API}/audit/proofs/consistency", params={"old_size": 10**6}).status_code == 404
    )
    assert client.get(f"{API}/audit/checkpoints/latest").status_code == 404


def test_export_is_json_lines_of_every_entry(
    client: TestClient, session: Session, steward: Resident
) -> None:
    response = client.get(f"{API}/audit/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["index"] for line in lines] == list(range(len(lines)))
    assert lines[-1]["entry"]["event"] == "steward.read"  # the export itself is audited first


def test_erasure_overview_shows_every_request_with_platform_state_and_overdue(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    resident_with_consent: Resident,
    steward: Resident,
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    request = execute_erasure(
        session,
        runtime.oidc,
        account_id=resident_with_consent.account_id,
        requested_by="operator",
        actor="operator:cli",
        now=long_ago,
    )
    session.commit()
    data = client.get(f"{API}/erasure").json()["requests"]
    (line,) = data
    assert line["id"] == request.id and line["overdue"] is True and line["field"] is None
    page = client.get("/steward/erasure")
    assert page.status_code == 200 and 'data-overdue="true"' in page.text
    assert request.id in page.text
    assert [p["kind"] for p in line["platforms"]] == ["security_event"]
    assert line["platforms"][0]["acknowledged_at"] is None
    for text in (page.text, json.dumps(data)):
        assert RESIDENT_EMAIL not in text and "Jan Smit" not in text


def test_consent_overview_counts_per_platform_claim_and_state(
    client: TestClient, session: Session, resident_with_consent: Resident, steward: Resident
) -> None:
    counts = client.get(f"{API}/consents").json()["counts"]
    states = {(c["claim"], c["state"]): c["count"] for c in counts}
    assert states[("email", "given")] == 1 and states[("name", "given")] == 1
    page = client.get("/steward/consents")
    assert page.status_code == 200 and 'data-claim="email"' in page.text
    assert RESIDENT_EMAIL not in page.text and "Jan Smit" not in page.text


def test_audit_page_filters_and_audits(
    client: TestClient, session: Session, resident_with_consent: Resident, steward: Resident
) -> None:
    page = client.get("/steward/audit", params={"event": "consent.given"})
    assert page.status_code == 200 and 'data-event="consent.given"' in page.text
    assert 'data-event="account.created"' not in page.text
    assert _reads(session)[-1]["details"]["filters"] == ["event"]  # type: ignore[index]
    assert client.get("/steward/audit", params={"since": "yesterday"}).status_code == 422


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_grants_and_revokes_the_role_by_email(runtime: Runtime, session: Session) -> None:
    someone = make_resident(runtime, session, email="a@example.org")
    runner = CliRunner()
    result = runner.invoke(
        accounts_cli, ["steward", "grant", "--email", "A@example.org"], obj=runtime
    )
    assert result.exit_code == 0, result.output
    assert session.get(AccountRole, (someone.account_id, STEWARD)) is not None
    listed = runner.invoke(accounts_cli, ["steward", "list"], obj=runtime)
    assert someone.account_id in listed.output
    result = runner.invoke(
        accounts_cli, ["steward", "revoke", "--account", someone.account_id], obj=runtime
    )
    assert result.exit_code == 0 and "no longer" in result.output
    session.expire_all()
    assert session.get(AccountRole, (someone.account_id, STEWARD)) is None
    unknown = runner.invoke(
        accounts_cli, ["steward", "grant", "--email", "x@example.org"], obj=runtime
    )
    assert unknown.exit_code != 0 and "no such account" in unknown.output
