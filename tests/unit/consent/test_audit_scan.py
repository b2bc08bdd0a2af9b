"""The fast entry pass of `kluis audit verify` finds exactly what the row-by-row checks find."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

import audit.scan
from audit.merkle import MerkleTree, perfect_subtrees, root_from_leaf_hashes
from audit.models import AuditCheckpoint, AuditEntry
from audit.record import record
from audit.scan import _scan_rows, scan_entries

REF = "ef" * 32


@pytest.fixture
def entries(session: Session) -> None:
    session.execute(delete(AuditCheckpoint))
    session.execute(delete(AuditEntry))
    for i in range(6):
        record(session, "test.event", "client:abc" if i % 2 else "system", REF, {"n": i})


def _set(session: Session, idx: int, **values: object) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.idx == idx).values(**values))
    session.expire_all()


def _rewrite(session: Session, idx: int, text: str, **columns: object) -> None:
    leaf = hashlib.sha256(b"\x00" + text.encode()).digest()
    _set(session, idx, entry=text, leaf_hash=leaf, **columns)


def _payload(session: Session, idx: int) -> dict[str, object]:
    row = session.get(AuditEntry, idx)
    assert row is not None
    value: dict[str, object] = json.loads(row.entry)
    return value


def _canonical(payload: dict[str, object]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _event_column(s: Session) -> None:
    _set(s, 2, event="test.other")


def _actor_column(s: Session) -> None:
    _set(s, 3, actor="system")


def _subject_column(s: Session) -> None:
    _set(s, 1, subject_ref=None)


def _created_at_column(s: Session) -> None:
    row = s.get(AuditEntry, 4)
    assert row is not None
    _set(s, 4, created_at=row.created_at + dt.timedelta(microseconds=1))


def _not_json(s: Session) -> None:
    _rewrite(s, 2, "{not json")


def _details_swallow_the_tail(s: Session) -> None:
    # the text after "details" is no single value: the fast path must not accept it
    p = _payload(s, 3)
    text = _canonical(p).replace('"details":{"n":3}', '"details":{"n":3},"event":"x.y"')
    _rewrite(s, 3, text)


def _duplicate_key_last_wins(s: Session) -> None:
    # json.loads keeps the last "event", which is not the column's
    p = _payload(s, 3)
    text = _canonical(p).replace('"details":{"n":3}', '"details":{"n":3},"event":"test.event"')
    _rewrite(s, 3, text.replace('"event":"test.event","idx"', '"event":"x.y","idx"'))


def _quote_in_actor(s: Session) -> None:
    # a column needing escapes takes the slow path; entry and column agree
    p = _payload(s, 5)
    p["actor"] = 'a","details":{},"x":"'
    _rewrite(s, 5, _canonical(p), actor=p["actor"])


def _whitespace(s: Session) -> None:
    p = _payload(s, 5)
    _rewrite(s, 5, json.dumps(p, sort_keys=True))


def _moved(s: Session) -> None:
    p = _payload(s, 4)
    p["idx"] = 7
    _rewrite(s, 4, _canonical(p))


def _removed(s: Session) -> None:
    s.execute(delete(AuditEntry).where(AuditEntry.idx == 3))


TAMPERINGS: dict[str, tuple[Callable[[Session], None], str | None]] = {
    "event column": (_event_column, "entry 2 columns disagree"),
    "actor column": (_actor_column, "entry 3 columns disagree"),
    "subject column": (_subject_column, "entry 1 columns disagree"),
    "created_at column": (_created_at_column, "entry 4 columns disagree"),
    "not json": (_not_json, "entry 2 is not valid JSON"),
    "details swallow the tail": (_details_swallow_the_tail, "entry 3 was altered or replaced"),
    "duplicate key": (_duplicate_key_last_wins, "entry 3 columns disagree"),
    "quote in actor, last entry": (_quote_in_actor, None),
    "whitespace, last entry": (_whitespace, None),
    "moved": (_moved, "entry 4 was moved"),
    "removed": (_removed, "entry 3 is missing"),
}


def test_untouched_entries_pass_the_fast_path_and_agree_with_the_row_checks(
    session: Session, entries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow: list[int] = []
    monkeypatch.setattr(audit.scan, "_slow", lambda _s, idx, *_a: slow.append(idx))
    leaves, problem, subtrees = scan_entries(session, min_level=1)
    assert slow == [] and subtrees == perfect_subtrees(leaves, 1)
    assert problem is None and len(leaves) == 6
    assert (leaves, problem) == _scan_rows(session)


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_fast_pass_reports_what_the_row_checks_report(
    session: Session, entries: None, name: str
) -> None:
    tamper, expected = TAMPERINGS[name]
    tamper(session)
    leaves, problem, _ = scan_entries(session)
    assert (leaves, problem) == _scan_rows(session)
    if expected is None:  # rewritten in a form the row checks accept
        assert problem is None
    else:
        assert problem is not None and problem.startswith(expected), problem


@pytest.mark.parametrize("size", [0, 1, 5, 64, 65, 200, 256, 1000])
def test_perfect_subtrees_give_the_roots_and_proofs_of_a_cold_tree(size: int) -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    cache = perfect_subtrees(leaves, 2)
    warm = MerkleTree(lambda s, e: leaves[s:e], size, cache=cache, cache_min_level=2)
    for n in {size, size // 2, size - 1} - {0, -1}:
        cold = MerkleTree(lambda s, e: leaves[s:e], size, cache_min_level=2)
        assert warm.subtree_hash(0, n) == cold.subtree_hash(0, n)
        assert warm.inclusion_proof(n - 1) == cold.inclusion_proof(n - 1)
    assert warm.root() == root_from_leaf_hashes(leaves)
