"""Every request of a verification runs each statement in its own transaction on PostgreSQL
(autocommit: no BEGIN and COMMIT round trips), on a database whose commits are real (not the
test's savepoint): each writes one statement at most (a new session, its end or its
cancellation, each with its audit entry), durable before the answer; a session is still
scanned and answered once."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from attestations.sdjwt import public_jwk
from attestations.verifier.models import VerifierSession
from audit.models import AuditEntry
from core.db import Database
from keys import Keyring
from tests.conftest import TEST_ISSUER
from tests.support.databases import backend, committing_database
from tests.support.dcql import postcode_query
from tests.support.oidc import RP, make_rp
from tests.support.transactions import transaction_commands
from tests.support.wallet import StoredCredential, Wallet

POSTGRESQL = backend() == "postgresql"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
QUERY = postcode_query(TEST_ISSUER)
BODY = {"dcql_query": QUERY, "purpose": "Stemmen in buurt 1087"}


@pytest.fixture
def db(fresh_database: str, keyring: Keyring) -> Iterator[Database]:
    """The app on an engine of its own, committing for real."""
    with committing_database(fresh_database, keyring) as database:
        yield database


@pytest.fixture
def rp(db: Database) -> RP:
    with db.session() as session:
        made = make_rp(session)
        session.commit()
        return made


def stored_status(db: Database, session_id: str) -> str:
    """What another connection sees: committed state only."""
    with db.engine.connect() as conn:
        query = select(VerifierSession.status).where(VerifierSession.id == session_id)
        return str(conn.execute(query).scalar_one())


def audited(db: Database, event: str) -> list[object]:
    """The sessions named by the committed entries of `event`."""
    with db.engine.connect() as conn:
        query = select(AuditEntry.entry).where(AuditEntry.event == event).order_by(AuditEntry.idx)
        return [json.loads(entry)["details"].get("session") for entry in conn.scalars(query)]


def test_a_verification_commits_each_step_before_it_answers(
    client: TestClient,
    rp: RP,
    wallet: Wallet,
    holder: StoredCredential,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with transaction_commands(client, monkeypatch) as sent:
        created = client.post("/verifier/sessions", json=BODY, auth=rp.basic())
        assert created.status_code == 201, created.text
        session_id = created.json()["session_id"]
        assert stored_status(db, session_id) == "pending"
        assert audited(db, "verifier.session_created") == [session_id]  # with its entry

        scanned = client.get(f"/verifier/request/{session_id}")
        assert scanned.status_code == 200, scanned.text
        assert stored_status(db, session_id) == "scanned"  # durable before the answer

        answer = wallet.present(created.json()["qr_payload"], [("postcode_area",)])
        assert answer.status_code == 200, answer.text
        assert stored_status(db, session_id) == "done"

        status = client.get(f"/verifier/sessions/{session_id}", auth=rp.basic())
        assert status.status_code == 200 and status.json()["status"] == "done", status.text

    assert audited(db, "verifier.presented") == [session_id]
    if POSTGRESQL:
        # each writes one statement at most: no BEGIN, no COMMIT
        for request in ("POST /verifier/sessions", "GET /verifier/request/{id}"):
            assert sent[request] == [], sent
        for request in ("POST /verifier/response", "GET /verifier/sessions/{id}"):
            assert sent[request] == [], sent


def assertion(rp: RP, key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": TEST_ISSUER, "iat": now}
    claims.update({"exp": now + 60, "jti": secrets.token_urlsafe(8)})
    signed = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}


def test_a_private_key_jwt_platform_creates_and_reads_in_autocommit(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The used `jti` is stored by one INSERT (no savepoint, which autocommit has no
    transaction for) and stays used: a replay is refused."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**public_jwk(key.public_key()), "kid": "k1", "alg": "ES256", "use": "sig"}
    with db.session() as session:
        rp = make_rp(session, "Sleutelplatform", jwks={"keys": [jwk]})
        session.commit()
    with transaction_commands(client, monkeypatch) as sent:
        auth = assertion(rp, key)
        created = client.post("/verifier/sessions", json={**BODY, **auth})
        assert created.status_code == 201, created.text
        status = client.get(created.headers["location"], params=assertion(rp, key))
        assert status.status_code == 200 and status.json()["status"] == "pending", status.text
    replayed = client.post("/verifier/sessions", json={**BODY, **auth})
    assert replayed.status_code == 401, replayed.text
    assert stored_status(db, created.json()["session_id"]) == "pending"
    assert audited(db, "verifier.session_created") == [created.json()["session_id"]]
    if POSTGRESQL:  # the jti in autocommit; what follows it in a transaction of its own
        assert sent["POST /verifier/sessions"] in ([], ["BEGIN", "COMMIT"]), sent


def test_a_wallet_that_declines_cancels_with_its_entry(
    client: TestClient, rp: RP, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = client.post("/verifier/sessions", json=BODY, auth=rp.basic()).json()
    with db.engine.connect() as conn:
        query = select(VerifierSession.state).where(VerifierSession.id == created["session_id"])
        state = conn.execute(query).scalar_one()
    with transaction_commands(client, monkeypatch) as sent:
        declined = client.post(
            "/verifier/response", data={"error": "access_denied", "state": state}
        )
        again = client.post("/verifier/response", data={"error": "access_denied", "state": state})
    assert declined.status_code == 200, declined.text
    assert again.status_code == 400, again.text  # ended: nothing cancelled or appended twice
    assert stored_status(db, created["session_id"]) == "cancelled"
    assert audited(db, "verifier.session_cancelled") == [created["session_id"]]
    if POSTGRESQL:
        assert sent["POST /verifier/response"] == [], sent


def test_a_session_is_still_answered_once(
    client: TestClient, rp: RP, wallet: Wallet, holder: StoredCredential, db: Database
) -> None:
    created = client.post("/verifier/sessions", json=BODY, auth=rp.basic()).json()
    first = wallet.present(created["qr_payload"], [("postcode_area",)])
    assert first.status_code == 200, first.text

    request_again = client.get(f"/verifier/request/{created['session_id']}")
    with db.engine.connect() as conn:
        query = select(VerifierSession.state).where(VerifierSession.id == created["session_id"])
        state = conn.execute(query).scalar_one()
    replayed = client.post(
        "/verifier/response", data={"vp_token": wallet.last_vp_token, "state": state}
    )

    assert request_again.status_code == 404, request_again.text  # no longer open
    assert replayed.status_code == 400, replayed.text
    assert "ended" in replayed.json()["error_description"]
    assert stored_status(db, created["session_id"]) == "done"
    assert audited(db, "verifier.presented") == [created["session_id"]]  # appended once


def test_the_pool_gets_its_connections_back_in_transactions(
    client: TestClient, rp: RP, db: Database
) -> None:
    """A connection used in autocommit goes back to the pool as it was: whoever checks it out
    next runs in a transaction again (its rollback undoes its writes)."""
    for _ in range(3):
        created = client.post("/verifier/sessions", json=BODY, auth=rp.basic()).json()
        assert client.get(f"/verifier/request/{created['session_id']}").status_code == 200
        assert client.get(created["status_url"], auth=rp.basic()).status_code == 200

    pooled = [db.engine.connect() for _ in range(max(1, db.engine.pool.checkedin()))]
    try:
        for conn in pooled:
            if POSTGRESQL:
                assert conn.connection.dbapi_connection.autocommit is False  # type: ignore[union-attr]
            conn.execute(text("UPDATE verifier_sessions SET purpose = 'rolled back'"))
            conn.rollback()
    finally:
        for conn in pooled:
            conn.close()
    with db.session() as session:
        purposes = session.scalars(select(VerifierSession.purpose)).all()
    assert purposes and "rolled back" not in purposes
