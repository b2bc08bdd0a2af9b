"""Full verification over ranges of the log (`kluis audit verify --workers N`) finds exactly
what one pass over the whole log finds, wherever the ranges' borders fall: each range's first
row is checked against the index count and the last leaf of the ranges before it."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

import audit.cli
import audit.scan
from audit.cli import audit_cli, default_workers, idle_cores, server_here
from audit.log import AuditLog, VerifyReport, checkpoint_signer, verify_database, verify_log
from audit.models import AuditCheckpoint, AuditEntry
from audit.ranges import PARAM_MARKERS, leaf_before, scan_range
from audit.record import Pending, record_many
from audit.scan import Levels, Part, _join, _scan_rows
from core.db import Database
from tests.unit.consent.test_audit_scan import TAMPERINGS

REF = "ef" * 32
ENTRIES = 12


def _fill(session: Session) -> None:
    session.execute(delete(AuditCheckpoint))
    session.execute(delete(AuditEntry))
    record_many(
        session,
        [
            Pending("test.event", "client:abc" if i % 2 else "system", REF, {"n": i})
            for i in range(ENTRIES)
        ],
    )


@pytest.fixture
def entries(session: Session) -> None:
    _fill(session)


def _ranges(session: Session, borders: list[int]) -> tuple[list[bytes], str | None]:
    """What the range processes would find for ranges split at `borders`, read here."""
    connection = session.connection()
    dialect = connection.dialect
    marker = PARAM_MARKERS[dialect.paramstyle]
    cursor = connection.connection.cursor()
    starts: list[int | None] = [None, *borders]
    stops: list[int | None] = [*borders, None]
    parts: list[Part] = []
    try:
        for start, stop in zip(starts, stops, strict=True):
            expected = 0 if start is None else start
            before = None if start is None else leaf_before(cursor, marker, start)
            leaves, refused, first = scan_range(
                cursor, dialect.name, marker, (start, stop), expected, before
            )
            parts.append((leaves, refused, first, before))
    finally:
        cursor.close()
    return _join(session, parts)


def _set(session: Session, idx: int, **values: object) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.idx == idx).values(**values))
    session.expire_all()


def _remove(*indices: int) -> Callable[[Session], None]:
    def remove(session: Session) -> None:
        session.execute(delete(AuditEntry).where(AuditEntry.idx.in_(indices)))

    return remove


def _replace_first_of_range(session: Session) -> None:
    # entry 4 rewritten with a matching leaf hash: entry 5 no longer chains to it
    row = session.get(AuditEntry, 4)
    assert row is not None
    text = row.entry.replace('"n":4', '"n":40')
    _set(session, 4, entry=text, leaf_hash=hashlib.sha256(b"\x00" + text.encode()).digest())


def _swap_across_the_border(session: Session) -> None:
    third, fourth = session.get(AuditEntry, 3), session.get(AuditEntry, 4)
    assert third is not None and fourth is not None
    entry_3, leaf_3 = third.entry, third.leaf_hash
    _set(session, 3, entry=fourth.entry, leaf_hash=fourth.leaf_hash)
    _set(session, 4, entry=entry_3, leaf_hash=leaf_3)


def _beyond_the_end(session: Session) -> None:
    row = session.get(AuditEntry, ENTRIES - 1)
    assert row is not None
    session.add(
        AuditEntry(
            idx=ENTRIES + 3,
            created_at=row.created_at,
            event=row.event,
            actor=row.actor,
            subject_ref=row.subject_ref,
            entry=row.entry,
            leaf_hash=row.leaf_hash,
        )
    )
    session.flush()


def _before_the_start(session: Session) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.idx == 0).values(idx=-1))


BORDER_TAMPERINGS: dict[str, Callable[[Session], None]] = {
    "last row of a range removed": _remove(3),
    "first row of a range removed": _remove(4),
    "both rows at a border removed": _remove(3, 4),
    "a whole range removed": _remove(4, 5, 6, 7),
    "first row of a range replaced": _replace_first_of_range,
    "rows swapped across a border": _swap_across_the_border,
    "a row beyond the end": _beyond_the_end,
    "a row before the start": _before_the_start,
    **{name: tamper for name, (tamper, _) in TAMPERINGS.items()},
}
SPLITS = [[], [4], [4, 8], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [4, 100]]


@pytest.mark.parametrize("borders", SPLITS, ids=str)
def test_untouched_ranges_join_into_the_whole_log(
    session: Session, entries: None, borders: list[int]
) -> None:
    leaves, problem = _ranges(session, borders)
    assert problem is None and len(leaves) == ENTRIES
    assert (leaves, problem) == _scan_rows(session)


@pytest.mark.parametrize("borders", SPLITS, ids=str)
@pytest.mark.parametrize("name", list(BORDER_TAMPERINGS))
def test_ranges_report_what_one_pass_reports(
    session: Session, entries: None, name: str, borders: list[int]
) -> None:
    BORDER_TAMPERINGS[name](session)
    whole = _scan_rows(session)
    assert _ranges(session, borders) == whole
    if name in BORDER_TAMPERINGS and name not in TAMPERINGS:
        assert whole[1] is not None, name  # every border tampering is found


@pytest.fixture
def database(fresh_database: str) -> Iterator[Database]:
    database = Database.from_url(fresh_database)
    with database.transaction() as session:
        _fill(session)
    log = AuditLog(checkpoint_signer(b"k" * 40, "http://testserver"))
    with database.transaction() as session:
        log.checkpoint(session)
    try:
        yield database
    finally:
        database.dispose()


def test_range_processes_verify_a_committed_log_as_one_pass_does(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(checkpoint_signer(b"k" * 40, "http://testserver"))
    monkeypatch.setattr(audit.scan, "MIN_RANGE", 3)
    started: list[dict[str, object]] = []
    start = audit.scan._start
    monkeypatch.setattr(audit.scan, "_start", lambda job: started.append(job) or start(job))
    collected: list[tuple[Part, Levels] | None] = []
    collect = audit.scan._collect
    monkeypatch.setattr(
        audit.scan, "_collect", lambda p, job: collected.append(collect(p, job)) or collected[-1]
    )
    one = verify_database(database, log, workers=1)
    assert started == [] and one.ok, one.problems
    three = verify_database(database, log, workers=3)
    assert [job["start"] for job in started] == [4, 8]  # two processes, this one the first
    assert [answer[0][2] for answer in collected if answer is not None] == [4, 8]  # both answered
    assert three == one

    started.clear()
    with database.transaction() as session:
        _remove(4)(session)  # the first row of the second range
    with database.transaction() as session:
        alone = verify_log(session, log)
    assert verify_database(database, log, workers=3) == alone
    assert len(started) == 2 and alone.problems[0].startswith("entry 4 is missing")
    assert [answer[0][2] for answer in collected[2:] if answer is not None] == [5, 8]


def test_this_process_takes_a_head_start_while_the_range_processes_start(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(checkpoint_signer(b"k" * 40, "http://testserver"))
    monkeypatch.setattr(audit.scan, "MIN_RANGE", 4)  # a head start of at most 2 rows
    started: list[dict[str, object]] = []
    start = audit.scan._start
    monkeypatch.setattr(audit.scan, "_start", lambda job: started.append(job) or start(job))
    one = verify_database(database, log, workers=1)
    two = verify_database(database, log, workers=2)
    # 12 entries and a head start of 2, halved: this process 0-6, the other one 7-11
    assert [(job["start"], job["stop"]) for job in started] == [(7, ENTRIES)]
    assert two == one and two.ok, two.problems
    with database.transaction() as session:
        _set(session, 7, event="test.other")  # the first row of the other range
    with database.transaction() as session:
        alone = verify_log(session, log)
    assert verify_database(database, log, workers=2) == alone
    assert alone.problems[0].startswith("entry 7 columns disagree"), alone.problems


def test_a_failed_range_process_leaves_the_work_to_this_one(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(checkpoint_signer(b"k" * 40, "http://testserver"))
    monkeypatch.setattr(audit.scan, "MIN_RANGE", 3)

    def fail(process: subprocess.Popen[bytes], job: object) -> None:
        assert process.stdout is not None
        process.stdout.close()
        process.wait()

    monkeypatch.setattr(audit.scan, "_collect", fail)
    with database.transaction() as session:
        _set(session, 9, event="test.other")
    report = verify_database(database, log, workers=3)
    assert report.problems[0].startswith("entry 9 columns disagree"), report.problems


@pytest.mark.parametrize(
    ("cores", "load", "workers"),
    [(2, 5.0, 1), (2, 0.3, 2), (2, 1.0, 1), (8, 0.5, 4), (1, 0.0, 1), (4, None, 4)],
)
def test_verify_uses_the_idle_cores_by_default(
    monkeypatch: pytest.MonkeyPatch, cores: int, load: float | None, workers: int
) -> None:
    def loadavg() -> tuple[float, float, float]:
        if load is None:
            raise OSError("no load average here")
        return (load, load, load)

    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)), raising=False)
    monkeypatch.setattr(os, "getloadavg", loadavg)
    assert idle_cores() == workers


def test_verify_refuses_fewer_than_one_worker() -> None:
    result = CliRunner().invoke(audit_cli, ["verify", "--workers", "0"], obj=None)
    assert result.exit_code == 2 and "--workers" in result.output


@pytest.mark.parametrize(
    ("url", "here"),
    [
        ("postgresql+psycopg://kluis@127.0.0.1:5432/kluis", True),
        ("postgresql+psycopg://kluis@localhost/kluis", True),
        ("postgresql+psycopg://kluis@[::1]:5432/kluis", True),
        ("postgresql+psycopg:///kluis", True),  # the default socket
        ("postgresql+psycopg://kluis@/kluis?host=/var/run/postgresql", True),
        ("postgresql+psycopg://kluis@db.internal:5432/kluis", False),
        ("postgresql+psycopg://kluis@127.0.0.1:5432,localhost:5433/kluis", True),
        ("postgresql+psycopg://kluis@127.0.0.1:5432,10.0.0.6:5432/kluis", False),
        ("postgresql+psycopg://kluis@/kluis?host=db.internal", False),
        ("postgresql+psycopg://kluis@/kluis?host=127.0.0.1,localhost", True),
        ("postgresql+psycopg://kluis@/kluis?host=/var/run/postgresql,db.remote", False),
        ("postgresql+psycopg://kluis@127.0.1.1/kluis", True),  # Debian's hostname address
        ("postgresql+psycopg://kluis@localhost/kluis?hostaddr=10.0.0.6", False),
        ("postgresql+psycopg://kluis@db.example/kluis?hostaddr=127.0.0.1", True),
        ("sqlite:///kluis.sqlite3", False),
    ],
)
def test_verify_knows_a_postgresql_server_on_this_machine(url: str, here: bool) -> None:
    database = Database.from_url(url)  # nothing connects
    try:
        assert server_here(database) is here
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("cores", "busy", "here", "workers"),
    # measured on 2 cores with the server on them: one process 168-252 k entries/s, two
    # 148-204 k (bench/README.md, `audit`); with the server elsewhere every idle core counts
    [
        (2, 0.0, True, 1),
        (2, 0.0, False, 2),
        (4, 0.0, True, 3),
        (3, 0.0, True, 2),
        (8, 0.0, True, 4),
        (4, 2.0, True, 1),
        (1, 0.0, True, 1),
    ],
)
def test_verify_leaves_a_local_postgresql_server_its_share_of_the_cores(
    cores: int, busy: float, here: bool, workers: int
) -> None:
    assert default_workers(cores, busy, here) == workers


def test_verify_picks_its_workers_for_the_database_it_verifies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    picked: list[int] = []

    def verify(db: Database, log: object, workers: int = 1) -> VerifyReport:
        picked.append(workers)
        return VerifyReport(tree_size=0, root_hash=None, checkpoints=0, problems=[])

    @dataclass
    class Runtime:
        db: Database
        audit: object = None

    monkeypatch.setattr(audit.cli, "verify_database", verify)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    for url in ("postgresql+psycopg://kluis@127.0.0.1/kluis", "postgresql+psycopg://kluis@db/k"):
        database = Database.from_url(url)
        try:
            result = CliRunner().invoke(audit_cli, ["verify"], obj=Runtime(database))
            assert result.exit_code == 0, result.output
            result = CliRunner().invoke(
                audit_cli, ["verify", "--workers", "3"], obj=Runtime(database)
            )
            assert result.exit_code == 0, result.output
        finally:
            database.dispose()
    assert picked == [1, 3, 2, 3]


def test_the_benchmarks_can_ask_for_the_workers_of_an_idle_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (5.0, 5.0, 5.0))
    database = Database.from_url("postgresql+psycopg://kluis@127.0.0.1/kluis")
    try:
        assert idle_cores() == 1 and idle_cores(load=False) == 2
        assert idle_cores(database, load=False) == 1
    finally:
        database.dispose()
