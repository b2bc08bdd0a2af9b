"""The tombstone journal: opaque ids only, appended at commit and never on rollback, and an
unreadable line refused by number instead of being skipped."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from rights.tombstones import JournalError, Tombstone, TombstoneJournal, merged

WHEN = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
TOMBSTONE = Tombstone(
    request_id="a" * 32,
    account_id="b" * 32,
    subject_ref="c" * 64,
    field=None,
    requested_by="resident",
    actor="resident",
    received_at=WHEN,
    platforms={"kc_Buurt-1": ()},
)


@pytest.fixture
def journal(tmp_path: Path) -> TombstoneJournal:
    return TombstoneJournal(tmp_path / "journal" / "tombstones.jsonl")


def test_journal_reads_back_what_it_appended_in_order(journal: TombstoneJournal) -> None:
    field = dataclasses.replace(
        TOMBSTONE, request_id="d" * 32, field="name", platforms={"kc_x": ("name",)}
    )
    journal.append([TOMBSTONE])
    journal.append([field])
    assert journal.read() == [TOMBSTONE, field]
    assert journal.path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "change",
    [
        {"account_id": "klaas@example.org"},
        {"subject_ref": "Klaas Vaessen"},
        {"field": "Klaas"},
        {"platforms": {"kc_x": ("1087 AB",)}},
        {"platforms": {"a platform name": ()}},
        {"actor": "resident:klaas vaessen"},
        {"requested_by": "klaas"},
    ],
)
def test_journal_refuses_anything_but_opaque_ids(
    journal: TombstoneJournal, change: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match=r"expected form|resident or operator"):
        journal.append([dataclasses.replace(TOMBSTONE, **change)])  # type: ignore[arg-type]
    assert not journal.path.exists()


def test_a_damaged_line_is_refused_by_number_not_skipped(journal: TombstoneJournal) -> None:
    journal.append([TOMBSTONE, dataclasses.replace(TOMBSTONE, request_id="e" * 32)])
    lines = journal.path.read_bytes().splitlines(keepends=True)
    edited = json.loads(lines[0])
    edited["account"] = "f" * 32  # valid form, but the checksum no longer matches
    journal.path.write_bytes(json.dumps(edited).encode() + b"\n" + lines[1] + b"{torn")
    with pytest.raises(JournalError, match=r"line 1 \(checksum mismatch\).*line 3"):
        journal.read()


def test_an_append_after_a_torn_last_line_starts_a_line_of_its_own(
    journal: TombstoneJournal,
) -> None:
    journal.append([TOMBSTONE])
    with journal.path.open("ab") as handle:
        handle.write(b'{"v":1,"ki')  # a write cut off by a power loss
    later = dataclasses.replace(TOMBSTONE, request_id="9" * 32)
    journal.append([later])
    lines = journal.path.read_bytes().splitlines()
    assert len(lines) == 3 and lines[1] == b'{"v":1,"ki'
    with pytest.raises(JournalError, match="line 2"):
        journal.read()


def test_a_missing_journal_is_empty(journal: TombstoneJournal) -> None:
    assert journal.read() == []


def test_staged_tombstones_are_written_at_commit_and_dropped_on_rollback(
    journal: TombstoneJournal,
) -> None:
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        journal.stage(session, TOMBSTONE)
        assert not journal.path.exists()
        session.rollback()
        session.commit()
        assert not journal.path.exists()
        journal.stage(session, TOMBSTONE)
        session.commit()
    assert journal.read() == [TOMBSTONE]


def test_several_journals_merge_by_request_in_order_received() -> None:
    earlier = dataclasses.replace(TOMBSTONE, request_id="1" * 32, received_at=WHEN.replace(hour=9))
    assert merged([[TOMBSTONE], [earlier, TOMBSTONE]]) == [earlier, TOMBSTONE]
