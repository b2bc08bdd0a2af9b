"""How many SQL statements and transactions each request of one verification costs: create
session, request object, direct_post response, result read (bench/verifier/profile.py
measures the same). The budgets are the current numbers: a change that adds a round trip
fails here and has to say why."""

from __future__ import annotations

import collections
import contextlib
import secrets
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from attestations.sdjwt import public_jwk
from tests.conftest import TEST_ISSUER
from tests.support.databases import backend
from tests.support.dcql import postcode_query
from tests.support.oidc import RP, make_rp
from tests.support.verifier_requests import request_label
from tests.support.wallet import StoredCredential, Wallet

POSTGRESQL = backend() == "postgresql"
# An audit append: the lock with the tail read, and the INSERT; on PostgreSQL one call of
# `audit_append` (migration 0023)
AUDIT = 1 if POSTGRESQL else 2
# A write with its audit entry: on PostgreSQL one statement (`audit.record_if`, migration 0024)
AUDITED_WRITE = 1 if POSTGRESQL else 1 + AUDIT
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
QUERY = postcode_query(TEST_ISSUER)
BODY = {"dcql_query": QUERY, "purpose": "Stemmen in buurt 1087"}


@contextlib.contextmanager
def per_request(
    engine: Engine, client: TestClient
) -> Iterator[dict[str, collections.Counter[str]]]:
    """Statements (without the test's savepoint plumbing), transactions and commits of each
    request by `method path`: the app's transactions are savepoints here, so each SAVEPOINT
    the app opens is one transaction it began, and each RELEASE one it committed."""
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    current = {"label": "test"}

    def on_request(request: httpx.Request) -> None:
        current["label"] = request_label(request)

    def on_execute(conn: object, cursor: object, statement: str, *args: object) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb == "SAVEPOINT":
            counts[current["label"]]["transactions"] += 1
        elif verb == "RELEASE":
            counts[current["label"]]["commits"] += 1
        elif verb not in ("ROLLBACK", "BEGIN", "COMMIT"):
            counts[current["label"]]["statements"] += 1

    client.event_hooks["request"].append(on_request)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        client.event_hooks["request"].remove(on_request)


@pytest.fixture
def rp(session: Session) -> RP:
    return make_rp(session)


def verification(client: TestClient, rp: RP, wallet: Wallet) -> None:
    created = client.post("/verifier/sessions", json=BODY, auth=rp.basic())
    assert created.status_code == 201, created.text
    answer = wallet.present(created.json()["qr_payload"], [("postcode_area",)])
    assert answer.status_code == 200, answer.text
    status = client.get(created.headers["location"], auth=rp.basic())
    assert status.status_code == 200 and status.json()["status"] == "done", status.text


def test_one_verification_stays_within_its_statement_budget(
    client: TestClient,
    rp: RP,
    wallet: Wallet,
    holder: StoredCredential,
    engine: Engine,
) -> None:
    verification(client, rp, wallet)  # warm: the process's key caches, as in a running service
    with per_request(engine, client) as counts:
        verification(client, rp, wallet)

    create = counts["POST /verifier/sessions"]
    # client, session INSERT with its audit entry; the trusted issuers are not read for a
    # query of Kluis's own types, and client_secret_basic shares the request's transaction
    assert create["statements"] <= 1 + AUDITED_WRITE, create
    assert create["transactions"] == create["commits"] == 1, create

    scan = counts["GET /verifier/request/{id}"]
    # pending → scanned by one UPDATE … RETURNING (on PostgreSQL with its NOTIFY)
    assert scan == {"statements": 1, "transactions": 1, "commits": 1}, scan

    answer = counts["POST /verifier/response"]
    # the session by state with the active signing key, the issuer key's removal check and
    # the credential's status (one read: `verifier/prefetch.py`), done (UPDATE … RETURNING
    # with its NOTIFY) with its audit entry
    assert answer["statements"] <= 1 + AUDITED_WRITE, answer
    assert answer["transactions"] == answer["commits"] == 1, answer

    read = counts["GET /verifier/sessions/{id}"]
    # client, the session's status columns: one transaction
    assert read == {"statements": 2, "transactions": 1, "commits": 1}, read


def test_a_used_private_key_jwt_assertion_stays_used_when_the_request_fails(
    client: TestClient, session: Session, engine: Engine
) -> None:
    """private_key_jwt consumes its `jti`: committed before the request goes on, so a request
    that then fails (a 422) has still used it up."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = {**public_jwk(key.public_key()), "kid": "k1", "alg": "ES256", "use": "sig"}
    rp = make_rp(session, "Sleutelplatform", jwks={"keys": [jwk]})
    now = int(time.time())
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": TEST_ISSUER, "iat": now}
    claims.update({"exp": now + 60, "jti": secrets.token_urlsafe(8)})
    assertion = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})
    auth = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}

    with per_request(engine, client) as counts:
        refused = client.post("/verifier/sessions", json={**BODY, "purpose": "", **auth})
    assert refused.status_code == 422, refused.text
    assert counts["POST /verifier/sessions"]["commits"] >= 1, counts  # the used jti

    replayed = client.post("/verifier/sessions", json={**BODY, **auth})
    assert replayed.status_code == 401, replayed.text


def test_client_secret_basic_failures_leave_nothing_behind(
    client: TestClient, rp: RP, engine: Engine
) -> None:
    """client_secret_basic consumes nothing: a refused request commits nothing at all."""
    with per_request(engine, client) as counts:
        refused = client.post("/verifier/sessions", json={**BODY, "purpose": ""}, auth=rp.basic())
    assert refused.status_code == 422, refused.text
    create = counts["POST /verifier/sessions"]
    assert create["transactions"] == 1 and create["commits"] == 0, counts
