"""One-time things stay one-time under concurrent requests (committed data, one connection
per thread; run on PostgreSQL in CI)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from attestations.config import AttestationConfig
from attestations.credential import issue_credentials
from attestations.issuance import (
    consume_nonce,
    create_offer,
    exchange_pre_authorized_code,
    new_nonce,
    offer_document,
)
from core.db import Database
from core.errors import InvalidGrant, InvalidToken
from keys import Keyring, SubjectKeys
from tests.conftest import TEST_ISSUER, TEST_SECRET
from tests.support.attestations import AGE_INPUT, make_account
from tests.support.concurrency import race

THREADS = 6
CONFIG = AttestationConfig(TEST_ISSUER)
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


@pytest.fixture
def database(fresh_database: str) -> Iterator[Database]:
    db = Database.from_url(fresh_database)
    yield db
    db.dispose()


def offer(database: Database, subject_keys: SubjectKeys) -> tuple[str, str]:
    with database.transaction() as session:
        account = make_account(session, subject_keys)
        created = create_offer(
            session,
            subject_keys,
            CONFIG,
            account_id=account,
            type_id="age",
            claims=AGE_INPUT,
            actor="operator:cli",
        )
        ref = created.credential_offer_uri.rsplit("/", 1)[1]
        document = offer_document(session, subject_keys, CONFIG, ref)
    return document["grants"][PRE_AUTH]["pre-authorized_code"], created.tx_code


def test_concurrent_exchanges_of_one_pre_authorized_code_succeed_once(
    database: Database, subject_keys: SubjectKeys
) -> None:
    code, tx_code = offer(database, subject_keys)
    form = {"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": tx_code}

    def exchange() -> dict[str, Any]:
        with database.session() as session:
            body = exchange_pre_authorized_code(session, CONFIG, form)
            session.commit()
            return body

    results, errors = race(exchange, THREADS)
    assert len(results) == 1, errors
    assert all(isinstance(e, InvalidGrant) for e in errors), errors


def test_concurrent_consumers_of_one_nonce_succeed_once(database: Database) -> None:
    with database.transaction() as session:
        nonce = new_nonce(session, CONFIG)

    def consume() -> bool:
        with database.session() as session:
            ok = consume_nonce(session, nonce)
            session.commit()
            return ok

    results, errors = race(consume, THREADS)
    assert not errors, errors
    assert sorted(results) == [False] * (THREADS - 1) + [True]


def test_concurrent_credential_requests_with_one_token_issue_once(
    database: Database, subject_keys: SubjectKeys
) -> None:
    keyring = Keyring(TEST_SECRET.encode(), retention=dt.timedelta(days=400))
    with database.transaction() as session:
        keyring.ensure_keys(session, ["ES256"])
    code, tx_code = offer(database, subject_keys)
    with database.transaction() as session:
        form = {"grant_type": PRE_AUTH, "pre-authorized_code": code, "tx_code": tx_code}
        token = exchange_pre_authorized_code(session, CONFIG, form)["access_token"]
        nonces = [new_nonce(session, CONFIG) for _ in range(THREADS)]
    queue = list(nonces)
    lock = threading.Lock()

    def request() -> dict[str, Any]:
        with lock:
            nonce = queue.pop()
        key = ec.generate_private_key(ec.SECP256R1())
        proof = jwt.encode(
            {"aud": TEST_ISSUER, "iat": int(time.time()), "nonce": nonce},
            key,
            algorithm="ES256",
            headers={
                "typ": "openid4vci-proof+jwt",
                "jwk": ECAlgorithm.to_jwk(key.public_key(), as_dict=True),
            },
        )
        body = {"credential_configuration_id": "age", "proofs": {"jwt": [proof]}}
        with database.session() as session:
            response = issue_credentials(
                session,
                keyring,
                subject_keys,
                CONFIG,
                authorization=f"Bearer {token}",
                body=body,
            )
            session.commit()
            return response

    results, errors = race(request, THREADS)
    assert len(results) == 1, errors
    assert all(isinstance(e, InvalidToken) for e in errors), errors


def test_concurrent_issuers_never_share_a_status_index(
    database: Database, subject_keys: SubjectKeys
) -> None:
    from attestations.models import IssuedCredential
    from attestations.statuslist import record_issued
    from core.db import utcnow

    small = AttestationConfig(TEST_ISSUER, status_list_size=64)
    with database.transaction() as session:
        account = make_account(session, subject_keys)

    def allocate() -> list[tuple[str, int]]:
        pairs = []
        for _ in range(5):
            with database.transaction() as session:
                now = utcnow()
                row = record_issued(
                    session, small, account_id=account, type_id="age", issued_at=now, expires_at=now
                )
                pairs.append((row.status_list_id, row.status_idx))
        return pairs

    results, errors = race(allocate, THREADS)
    assert not errors, errors
    pairs = [pair for result in results for pair in result]
    assert len(pairs) == THREADS * 5 == len(set(pairs))
    with database.transaction() as session:
        from sqlalchemy import func, select

        assert session.scalar(select(func.count()).select_from(IssuedCredential)) == len(pairs)
