"""The tamper-evident log: any alteration, removal or reordering is found and named."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from audit.checkpoint import open_checkpoint
from audit.cli import audit_cli
from audit.log import AuditLog, checkpoint_signer, verify_log
from audit.merkle import leaf_hash
from audit.models import AuditCheckpoint, AuditEntry
from audit.proofs import verify_consistency, verify_inclusion
from audit.record import record
from service.runtime import Runtime

ISSUER = "http://testserver"


@pytest.fixture
def log() -> AuditLog:
    return AuditLog(checkpoint_signer(b"k" * 40, ISSUER))


@pytest.fixture
def filled(session: Session, log: AuditLog) -> list[int]:
    """A fresh log of 10 entries with checkpoints at 4 and 10."""
    session.execute(delete(AuditCheckpoint))
    session.execute(delete(AuditEntry))
    indices = []
    for i in range(10):
        indices.append(record(session, "test.event", "system", None, {"n": i}).idx)
        if i in (3, 9):
            log.checkpoint(session)
    return indices


def _rewrite(session: Session, idx: int, details: dict[str, object], fix_leaf: bool) -> None:
    row = session.get(AuditEntry, idx)
    assert row is not None
    payload = json.loads(row.entry)
    payload["details"] = details
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    values: dict[str, object] = {"entry": text}
    if fix_leaf:
        values["leaf_hash"] = leaf_hash(text.encode())
    session.execute(update(AuditEntry).where(AuditEntry.idx == idx).values(**values))
    session.expire_all()


def test_untouched_log_verifies(session: Session, log: AuditLog, filled: list[int]) -> None:
    report = verify_log(session, log)
    assert report.ok, report.problems
    assert report.tree_size == 10 and report.checkpoints == 2


def test_altered_entry_is_named(session: Session, log: AuditLog, filled: list[int]) -> None:
    _rewrite(session, 6, {"n": 666}, fix_leaf=False)
    report = verify_log(session, log)
    assert not report.ok and report.problems[0].startswith("entry 6 was altered")


def test_altered_entry_with_rewritten_leaf_hash_is_named(
    session: Session, log: AuditLog, filled: list[int]
) -> None:
    _rewrite(session, 2, {"n": 222}, fix_leaf=True)
    report = verify_log(session, log)
    assert not report.ok
    assert report.problems[0].startswith("entry 2 was altered or replaced")
    assert any("checkpoint at size 4" in p for p in report.problems)


def test_removed_entry_is_named(session: Session, log: AuditLog, filled: list[int]) -> None:
    session.execute(delete(AuditEntry).where(AuditEntry.idx == 5))
    report = verify_log(session, log)
    assert report.problems[0].startswith("entry 5 is missing")


def test_removed_tail_is_found_by_the_checkpoint(
    session: Session, log: AuditLog, filled: list[int]
) -> None:
    session.execute(delete(AuditEntry).where(AuditEntry.idx >= 8))
    report = verify_log(session, log)
    assert any("entries 8 to 9 were removed" in p for p in report.problems)


def test_reordered_entries_are_found(session: Session, log: AuditLog, filled: list[int]) -> None:
    a, b = session.get(AuditEntry, 3), session.get(AuditEntry, 4)
    assert a is not None and b is not None
    (ea, la), (eb, lb) = (a.entry, a.leaf_hash), (b.entry, b.leaf_hash)
    session.execute(update(AuditEntry).where(AuditEntry.idx == 3).values(entry=eb, leaf_hash=lb))
    session.execute(update(AuditEntry).where(AuditEntry.idx == 4).values(entry=ea, leaf_hash=la))
    session.expire_all()
    report = verify_log(session, log)
    assert report.problems[0].startswith("entry 3 was moved")


def test_tampered_checkpoint_is_found(session: Session, log: AuditLog, filled: list[int]) -> None:
    session.execute(
        update(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size == 4)
        .values(note=AuditCheckpoint.note + "x")
    )
    session.expire_all()
    report = verify_log(session, log)
    assert any("size 4" in p for p in report.problems)


def test_checkpoint_from_another_key_is_rejected(session: Session, filled: list[int]) -> None:
    intruder = AuditLog(checkpoint_signer(b"z" * 40, ISSUER))
    report = verify_log(session, intruder)
    assert sum("bad signature" in p for p in report.problems) == 2


def test_proofs_verify_against_the_signed_checkpoint(
    session: Session, log: AuditLog, filled: list[int]
) -> None:
    latest = log.latest_checkpoint(session)
    assert latest is not None
    cp = open_checkpoint(latest.note, [log.verifier], origin=log.origin)
    proof = log.inclusion(session, 7)
    entry = session.get(AuditEntry, 7)
    assert entry is not None
    verify_inclusion(
        7, cp.size, entry.leaf_hash, [base64.b64decode(p) for p in proof["proof"]], cp.root_hash
    )  # type: ignore[union-attr]
    consistency = log.consistency(session, 4)
    old = session.get(AuditCheckpoint, 4)
    assert old is not None
    verify_consistency(
        4, cp.size, old.root_hash, cp.root_hash, [base64.b64decode(p) for p in consistency["proof"]]
    )  # type: ignore[union-attr]


def test_cli_verify_exits_nonzero_and_names_the_entry(
    runtime: Runtime, session: Session, filled: list[int]
) -> None:
    runtime.audit = AuditLog(checkpoint_signer(b"k" * 40, ISSUER))
    ok = CliRunner().invoke(audit_cli, ["verify"], obj=runtime)
    assert ok.exit_code == 0, ok.output
    assert "tree size   10" in ok.output and "OK" in ok.output
    _rewrite(session, 1, {"n": -1}, fix_leaf=True)
    bad = CliRunner().invoke(audit_cli, ["verify"], obj=runtime)
    assert bad.exit_code == 1 and "entry 1 was altered" in bad.output


def test_cli_checkpoint_prove_export_key(
    runtime: Runtime, session: Session, filled: list[int]
) -> None:
    runner = CliRunner()
    note = runner.invoke(audit_cli, ["checkpoint"], obj=runtime)
    assert note.exit_code == 0 and "\n— " in note.output
    proof = json.loads(runner.invoke(audit_cli, ["prove", "--index", "3"], obj=runtime).output)
    assert proof["index"] == 3 and proof["tree_size"] == 10
    bad = runner.invoke(audit_cli, ["prove", "--index", "99"], obj=runtime)
    assert bad.exit_code != 0
    lines = runner.invoke(audit_cli, ["export"], obj=runtime).output.splitlines()
    assert len(lines) == 10 and json.loads(lines[0])["entry"]["idx"] == 0
    assert "+" in runner.invoke(audit_cli, ["key"], obj=runtime).output
    assert (
        session.scalar(select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size.desc()))
        == 10
    )


_TAMPERS: dict[str, dict[str, object]] = {
    "entry": {"entry": '{"idx":0}'},
    "leaf_hash": {"leaf_hash": b"\x00" * 32},
    "event": {"event": "test.other"},
    "actor": {"actor": "operator:cli"},
    "subject_ref": {"subject_ref": "ab" * 32},
    "created_at": {"created_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
}


@pytest.mark.parametrize("column", sorted(_TAMPERS))
@pytest.mark.parametrize("idx", range(10))
def test_cli_verify_fails_when_any_column_of_any_entry_is_changed(
    runtime: Runtime, session: Session, filled: list[int], idx: int, column: str
) -> None:
    runtime.audit = AuditLog(checkpoint_signer(b"k" * 40, ISSUER))
    session.execute(update(AuditEntry).where(AuditEntry.idx == idx).values(**_TAMPERS[column]))
    session.expire_all()
    bad = CliRunner().invoke(audit_cli, ["verify"], obj=runtime)
    assert bad.exit_code == 1, bad.output
    assert "FAILED" in bad.output and f"entry {idx}" in bad.output


@pytest.mark.parametrize("size", [4, 10])
@pytest.mark.parametrize("column", ["note", "root_hash", "tree_size"])
def test_cli_verify_fails_when_any_stored_checkpoint_is_changed(
    runtime: Runtime, session: Session, filled: list[int], size: int, column: str
) -> None:
    runtime.audit = AuditLog(checkpoint_signer(b"k" * 40, ISSUER))
    row = session.get(AuditCheckpoint, size)
    assert row is not None
    changes: dict[str, object] = {
        "note": {"note": row.note.replace(f"\n{size}\n", f"\n{size - 1}\n")},
        "root_hash": {"root_hash": b"\x01" * 32},
        "tree_size": {"tree_size": size + 100},
    }[column]
    session.execute(
        update(AuditCheckpoint).where(AuditCheckpoint.tree_size == size).values(**changes)
    )
    session.expire_all()
    bad = CliRunner().invoke(audit_cli, ["verify"], obj=runtime)
    assert bad.exit_code == 1, bad.output
    assert "checkpoint" in bad.output or "entries" in bad.output
