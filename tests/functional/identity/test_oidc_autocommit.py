"""Authorize and UserInfo run each statement in its own transaction on PostgreSQL
(autocommit: no BEGIN and COMMIT round trips), on a database whose commits are real (not the
test's savepoint): each writes at most one statement (authorize: the grant with its code, or
the request stored for a consent, with its resident; UserInfo: the `claims.released` audit
entry, `audit_append`), durable before the answer leaves; the token endpoint keeps its
transaction."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from audit.log import verify_database
from audit.models import AuditEntry
from core.db import Database
from identity.oidc.models import AuthorizationRequest, Grant
from keys import Keyring
from service.runtime import Runtime
from tests.support.databases import backend, committing_database
from tests.support.forms import pkce_pair
from tests.support.oidc import RP, auth_params, code_flow, exchange, make_resident, make_rp
from tests.support.transactions import transaction_commands

ALLOW = ["email", "email_verified", "name", "preferred_username"]


@pytest.fixture
def db(fresh_database: str, keyring: Keyring) -> Iterator[Database]:
    """The app on an engine of its own, committing for real."""
    with committing_database(fresh_database, keyring) as database:
        yield database


@contextlib.contextmanager
def writes_to(db: Database) -> Iterator[list[str]]:
    """The statements that write, as the app's engine sends them."""
    writes: list[str] = []

    def on_execute(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE", "WITH"}:
            writes.append(statement.strip())

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield writes
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)


def released(db: Database) -> list[dict[str, object]]:
    """What another connection sees of the `claims.released` entries: committed ones only."""
    with db.engine.connect() as conn:
        query = (
            select(AuditEntry.entry)
            .where(AuditEntry.event == "claims.released")
            .order_by(AuditEntry.idx)
        )
        return [json.loads(entry)["details"] for entry in conn.execute(query).scalars()]


def test_authorize_stores_its_one_write_without_a_transaction_of_its_own(
    client: TestClient, runtime: Runtime, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session() as session:
        rp: RP = make_rp(session)
        resident = make_resident(runtime, session, client)
    with transaction_commands(client, monkeypatch) as sent:
        params = auth_params(rp, pkce_pair()[1])
        with writes_to(db) as writes:
            asked = client.get("/authorize", params=params, follow_redirects=False)
        assert [w.split()[:3] for w in writes] == [
            ["INSERT", "INTO", "oidc_authorization_requests"]
        ]
        assert asked.status_code == 302, asked.text
        assert asked.headers["location"].startswith("/authorize/continue/")  # consent first
        with db.engine.connect() as conn:  # committed, with its resident, in one INSERT
            stored = conn.execute(select(AuthorizationRequest.account_id)).scalars().all()
        assert stored == [resident.account_id]
        code_flow(client, rp, allow=ALLOW)  # consents; the code is issued on the way
        with writes_to(db) as writes:
            code_flow(client, rp)  # remembered consent: the grant and its code at once
        # one INSERT … WITH on PostgreSQL (SQLite, in its transaction: one INSERT each)
        assert len(writes) == (1 if backend() == "postgresql" else 2), writes
    with db.engine.connect() as conn:
        assert len(conn.execute(select(Grant.id)).scalars().all()) == 2
    if backend() == "postgresql":
        # both ways (the request stored, the code issued): reads and one INSERT each
        assert sent["GET /authorize"] == [], sent


def test_userinfo_releases_and_audits_without_a_transaction_of_its_own(
    client: TestClient, runtime: Runtime, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session() as session:
        rp: RP = make_rp(session)
        make_resident(runtime, session, client)
    query, verifier, _ = code_flow(client, rp, allow=ALLOW)
    with transaction_commands(client, monkeypatch) as sent:
        token = exchange(client, rp, query["code"], verifier)
        assert token.status_code == 200, token.text
        before = released(db)
        info = client.get(
            "/userinfo", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        assert info.status_code == 200 and info.json()["email"], info.text

    with db.engine.connect() as conn:  # two token rows, one entry
        issued = conn.execute(select(AuditEntry.idx).where(AuditEntry.event == "token.issued"))
        assert len(issued.all()) == 1
    after = released(db)  # durable before the answer
    assert len(after) == len(before) + 1
    assert after[-1]["channel"] == "userinfo" and "email" in after[-1]["claims"]  # type: ignore[operator]
    report = verify_database(db, runtime.audit)
    assert report.ok, report.problems
    if backend() == "postgresql":
        assert sent["GET /userinfo"] == [], sent  # reads and one append: no BEGIN, no COMMIT
        assert sent["POST /token"] == ["BEGIN", "COMMIT"], sent  # code, tokens, audit: one unit
