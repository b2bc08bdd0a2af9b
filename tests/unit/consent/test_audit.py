from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.merkle import leaf_hash, node_hash
from audit.models import AuditEntry
from audit.record import PersonalDataInAudit, record
from core.db import Database
from tests.support.concurrency import in_retried_transaction, run_workers

REF = "ab" * 32

# Known answers from ../shared/vectors/README.md (transparency-dev/merkle rfc6962_test.go).
EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
LEAF_EMPTY = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
LEAF_L123456 = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
NODE_N123_N456 = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"


def test_rfc6962_known_answers() -> None:
    assert hashlib.sha256(b"").hexdigest() == EMPTY_ROOT
    assert leaf_hash(b"").hex() == LEAF_EMPTY
    assert leaf_hash(b"L123456").hex() == LEAF_L123456
    assert node_hash(b"N123", b"N456").hex() == NODE_N123_N456


def test_record_appends_dense_indices_with_rfc6962_leaf_hashes(session: Session) -> None:
    start = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    first = -1 if start is None else start
    rows = [
        record(session, "key.rotated", "operator:cli", None, {"kid": "es256-x", "alg": "ES256"}),
        record(session, "consent.given", "resident", REF, {"claims": ["email"], "client": "c1"}),
        record(session, "login.succeeded", "system", REF),
    ]
    assert [r.idx for r in rows] == [first + 1, first + 2, first + 3]
    for row in rows:
        assert row.leaf_hash == hashlib.sha256(b"\x00" + row.entry.encode()).digest()
        payload = json.loads(row.entry)
        assert payload["idx"] == row.idx and payload["event"] == row.event
        # canonical: re-serialising gives the same bytes
        assert (
            json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            == row.entry
        )


@pytest.mark.parametrize(
    "details",
    [
        {"email": "x"},
        {"nested": {"postcode": "x"}},
        {"note": "mail jan@example.org"},
        {"where": "1087 AB"},
        {"list": ["ok", "born 1990-04-01"]},
        {"Name": "Klaas"},
    ],
)
def test_record_refuses_personal_data(session: Session, details: dict[str, object]) -> None:
    before = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    with pytest.raises(PersonalDataInAudit):
        record(session, "test.event", "system", None, details)
    after = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    assert before == after


@pytest.mark.parametrize(
    ("event", "actor", "ref"),
    [
        ("NotDotted", "system", None),
        ("a.b", "jan@example.org", None),
        ("a.b", "system", "jan@example.org"),
        ("a.b", "system", "short"),
    ],
)
def test_record_validates_event_actor_and_reference(
    session: Session, event: str, actor: str, ref: str | None
) -> None:
    with pytest.raises(ValueError):
        record(session, event, actor, ref)


def test_concurrent_appenders_get_distinct_dense_indices(fresh_database: str) -> None:
    database = Database.from_url(fresh_database)

    def append(n: int) -> None:
        for i in range(5):

            def write(session: Session, i: int = i) -> None:
                record(session, "test.concurrent", f"client:w{n}", None, {"i": i})

            in_retried_transaction(database, write, attempts=20)

    errors = run_workers(4, append)
    assert not errors
    with database.transaction() as session:
        indices = list(session.scalars(select(AuditEntry.idx).order_by(AuditEntry.idx)))
    database.dispose()
    assert indices == list(range(20))
