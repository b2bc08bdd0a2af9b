"""UserInfo runs each statement in its own transaction on PostgreSQL (autocommit: no BEGIN
and COMMIT round trips), on a database whose commits are real (not the test's savepoint): its
one write, the `claims.released` audit entry (`audit_append`, one statement), is durable and
chained before the answer leaves, and the token endpoint keeps its transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from audit.log import verify_database
from audit.models import AuditEntry
from core.db import Database
from keys import Keyring
from service.runtime import Runtime
from tests.support.databases import backend
from tests.support.oidc import RP, code_flow, exchange, make_resident, make_rp
from tests.support.transactions import transaction_commands

ALLOW = ["email", "email_verified", "name", "preferred_username"]


@pytest.fixture
def db(fresh_database: str, keyring: Keyring) -> Iterator[Database]:
    """The app on an engine of its own, committing for real."""
    database = Database.from_url(fresh_database)
    with database.transaction() as session:
        keyring.ensure_keys(session)
    try:
        yield database
    finally:
        database.dispose()


def released(db: Database) -> list[dict[str, object]]:
    """What another connection sees of the `claims.released` entries: committed ones only."""
    with db.engine.connect() as conn:
        query = select(AuditEntry.entry).where(AuditEntry.event == "claims.released")
        return [json.loads(entry)["details"] for entry in conn.execute(query).scalars()]


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

    after = released(db)  # durable before the answer
    assert len(after) == len(before) + 1
    assert after[-1]["channel"] == "userinfo" and "email" in after[-1]["claims"]  # type: ignore[operator]
    report = verify_database(db, runtime.audit)
    assert report.ok, report.problems
    if backend() == "postgresql":
        assert sent["GET /userinfo"] == [], sent  # reads and one append: no BEGIN, no COMMIT
        assert sent["POST /token"] == ["BEGIN", "COMMIT"], sent  # code, tokens, audit: one unit
