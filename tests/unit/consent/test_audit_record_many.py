"""`record_many`'s shortcuts (the entry spelled out, each distinct string checked once per
batch, one INSERT statement) write exactly what the plain way would and refuse what it refuses."""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import importlib
import json
from typing import Any

import psycopg
import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.entries import _canonical_encoder, _check_details
from audit.log import AuditLog, checkpoint_signer, verify_log
from audit.models import AuditCheckpoint, AuditEntry
from audit.record import Pending, PersonalDataInAudit, record, record_many
from core import canonical_json

REF = "0a" * 32
DETAILS: list[Any] = [
    None,
    {},
    {"client": "c1", "claims": ["email", "name"], "n": 3},
    {"reden": 'quote " backslash \\ tab \t newline \n', "é": "ünïcode ✓", "nul": "\x00"},
    {"nested": {"b": [1, 2.5, -0.0, 1e300, True, False, None], "a": {"z": {}, "y": []}}},
    {"tuple": ("a", "b"), "big": 2**70, "emoji": "\U0001f600"},
    collections.OrderedDict([("z", 1), ("a", 2)]),
]


class _Text(str):
    """A str subclass: checked like any string, by the general checks."""


def _payload(appended: Any, prev: bytes | None, details: Any) -> dict[str, Any]:
    return {
        "idx": appended.idx,
        "prev": prev.hex() if prev is not None else None,
        "ts": appended.created_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "event": appended.event,
        "actor": appended.actor,
        "subject": appended.subject_ref,
        "details": dict(details or {}),
    }


def test_entries_are_the_canonical_json_of_their_payload_and_stored_as_returned(
    session: Session,
) -> None:
    session.execute(delete(AuditEntry))
    items = [
        Pending("test.event", "client:c-1.x~y" if i % 2 else "system", REF if i % 3 else None, d)
        for i, d in enumerate(DETAILS)
    ]
    appended = record_many(session, items)
    prev = None
    for item, entry in zip(items, appended, strict=True):
        assert entry.entry.encode() == canonical_json(_payload(entry, prev, item.details))
        assert entry.leaf_hash == hashlib.sha256(b"\x00" + entry.entry.encode()).digest()
        assert entry.created_at.tzinfo is not None
        assert abs(entry.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
        prev = entry.leaf_hash
    session.expire_all()
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.idx)).all()
    assert [
        (r.idx, r.created_at, r.event, r.actor, r.subject_ref, r.entry, r.leaf_hash) for r in rows
    ] == [tuple(a) for a in appended]


def test_single_records_and_batches_write_the_same_entries(session: Session) -> None:
    session.execute(delete(AuditEntry))
    single = [record(session, "test.event", "system", REF, d) for d in DETAILS]
    batch = record_many(session, [Pending("test.event", "system", REF, d) for d in DETAILS])
    for one, many in zip(single, batch, strict=True):
        first, second = json.loads(one.entry), json.loads(many.entry)
        for payload in (first, second):
            del payload["idx"], payload["prev"], payload["ts"]
        assert first == second


@pytest.mark.parametrize(
    ("event", "actor", "ref"),
    [
        ("test.event\n", "system", None),
        ("test.event", "system\n", None),
        ("test.event", "system", REF + "\n"),
        ("test.event", "client:a b", None),
        (b"test.event", "system", None),
    ],
)
def test_names_must_match_their_pattern_whole(
    session: Session, event: Any, actor: str, ref: str | None
) -> None:
    with pytest.raises(ValueError):
        record_many(session, [Pending("test.event", "system"), Pending(event, actor, ref)])


def _refusal(details: Any) -> str:
    with pytest.raises(PersonalDataInAudit) as refused:
        _check_details(dict(details))
    return str(refused.value)


@pytest.mark.parametrize(
    "details",
    [
        {"note": "mail jan@example.org"},
        {"claims": ["email", "1087 AB"]},
        {"deep": [{"ok": "yes"}, {"Email": "x"}]},
        {"tuple": ("fine", ("born 1990-04-01",))},
        {5: "ok", "x": {"phone": None}},
        collections.OrderedDict([("ok", "fine"), ("bsn", 1)]),
        {"kind": _Text("06 1234 5678")},
    ],
)
def test_a_batch_refuses_what_a_single_record_refuses_with_the_same_message(
    session: Session, details: Any
) -> None:
    before = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    clean = {"note": "fine", "claims": ["email", "ok"], "deep": [{"ok": "yes"}], "x": {}}
    with pytest.raises(PersonalDataInAudit) as refused:
        record_many(
            session,
            [Pending("test.event", "system", None, clean)] * 3
            + [Pending("test.event", "system", None, details)],
        )
    assert str(refused.value) == _refusal(details)
    after = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    assert before == after


def test_a_string_that_passed_as_a_value_is_still_refused_as_a_key(session: Session) -> None:
    with pytest.raises(PersonalDataInAudit, match=r"details\.email is a personal-data field"):
        record_many(
            session,
            [
                Pending("test.event", "system", None, {"claims": ["email"]}),
                Pending("test.event", "system", None, {"email": "x"}),
            ],
        )


RECORD = importlib.import_module("audit.record")  # `audit.record` is also the function


@pytest.mark.parametrize("pipeline_min_rows", [1, 10**9], ids=["pipelined", "function"])
def test_pipelined_and_inserted_batches_store_what_they_return(
    session: Session, monkeypatch: pytest.MonkeyPatch, pipeline_min_rows: int
) -> None:
    # PostgreSQL writes a batch from PIPELINE_MIN_ROWS entries on with pipelined INSERTs,
    # smaller ones with `audit_append` (SQLite: always the INSERT); both must store the same
    # rows, which verify as any others
    monkeypatch.setattr(RECORD, "PIPELINE_MIN_ROWS", pipeline_min_rows)
    monkeypatch.setattr(RECORD, "_CHUNK", 5)  # sent in chunks of 5, the last one of 1
    if pipeline_min_rows == 1:  # the function would fail: only the pipeline wrote them
        monkeypatch.setattr(RECORD, "_APPEND", "SELECT no_such_function()")
    session.execute(delete(AuditCheckpoint))
    session.execute(delete(AuditEntry))
    record(session, "test.first", "system")
    items = [
        Pending("test.event", "client:c-1.x~y" if i % 2 else "system", REF if i % 3 else None, d)
        for i, d in enumerate(DETAILS * 3)
    ]
    appended = record_many(session, items)
    session.expire_all()
    rows = session.scalars(select(AuditEntry).where(AuditEntry.idx > 0).order_by(AuditEntry.idx))
    assert [
        (r.idx, r.created_at, r.event, r.actor, r.subject_ref, r.entry, r.leaf_hash) for r in rows
    ] == [tuple(a) for a in appended]
    report = verify_log(session, AuditLog(checkpoint_signer(b"k" * 40, "http://testserver")))
    assert report.ok and report.tree_size == len(items) + 1, report.problems


def test_a_batch_is_appended_at_one_moment(session: Session) -> None:
    before = dt.datetime.now(dt.UTC)
    appended = record_many(
        session, [Pending("test.event", "system", None, {"n": i}) for i in range(5)]
    )
    moments = {a.created_at for a in appended}
    stamps = {json.loads(a.entry)["ts"] for a in appended}
    assert len(moments) == 1 and len(stamps) == 1
    (moment,) = moments
    assert before <= moment <= dt.datetime.now(dt.UTC)
    assert stamps == {moment.isoformat(timespec="microseconds").replace("+00:00", "Z")}


def test_the_batch_encoder_spells_and_refuses_as_canonical_json() -> None:
    encode = _canonical_encoder()
    for details in [*DETAILS[1:], {"deep": [[[{"x": "é\u2028"}]]], "a": -1.5e-7}]:
        value = dict(details)
        assert "".join(encode(value, 0)).encode() == canonical_json(value)
    for bad, error in [({"x": {1, 2}}, TypeError), ({"x": float("nan")}, ValueError)]:
        with pytest.raises(error):
            canonical_json(bad)
        with pytest.raises(error):
            encode(bad, 0)


def test_text_utf8_cannot_hold_is_refused_before_anything_is_written(session: Session) -> None:
    before = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    items = [Pending("test.event", "system", None, {"n": i}) for i in range(100)]
    with pytest.raises(UnicodeEncodeError):
        record_many(session, [*items, Pending("test.event", "system", None, {"x": "\ud800"})])
    # the transaction is still usable (no INSERT was begun) and holds nothing new
    after = session.scalar(select(AuditEntry.idx).order_by(AuditEntry.idx.desc()).limit(1))
    assert before == after
    assert record_many(session, items)[0].idx == (-1 if before is None else before) + 1


def test_a_database_that_spells_an_entry_otherwise_stops_the_append(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL's `audit_append` completes and hashes the entries itself; the leaf it
    # reports last must be the one spelled here, or the append fails (and its transaction
    # with it) instead of returning entries other than those stored
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("only PostgreSQL spells entries in the database")
    record(session, "test.first", "system")
    forged = RECORD._APPEND.replace("last_leaf FROM", "sha256('x') FROM")
    assert forged != RECORD._APPEND
    monkeypatch.setattr(RECORD, "_APPEND", forged)
    with pytest.raises(RuntimeError, match="spelled an audit entry differently"):
        record(session, "test.second", "system", None, {"n": 1})


def test_a_pipelined_insert_that_fails_fails_the_append(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the pipeline's answers are read when it ends: an INSERT refused in its last chunk must
    # still raise, as SQLAlchemy raises a driver's error (a 503 where the connection is gone)
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("only PostgreSQL pipelines the INSERTs")
    first = record(session, "test.first", "system")
    size = RECORD._CHUNK * 2
    # a row in the way of the batch's last entry only
    session.execute(insert(AuditEntry).values(**{**first._asdict(), "idx": first.idx + size}))
    monkeypatch.setattr(RECORD, "_tail", lambda _session: (first.idx + 1, first.leaf_hash))
    items = [Pending("test.event", "system", None, {"n": i}) for i in range(size)]
    with pytest.raises(IntegrityError) as raised:
        record_many(session, items)
    assert isinstance(raised.value.orig, psycopg.errors.UniqueViolation)
    assert "test.event" not in str(raised.value)  # the statement, never its values
