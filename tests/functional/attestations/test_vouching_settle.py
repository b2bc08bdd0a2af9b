"""The periodic settle in batches (`vouching.settle`): each batch is a transaction of its own
that takes the graph lock, re-reads what it decides on and commits, so confirmations go through
between batches; what a batch decides is what a settle in one transaction would decide.

Time is passed explicitly, as in `test_vouching_cascade`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.vouching import settling as settle_module
from attestations.vouching.models import Confirmation, PeerGrant
from core.db import Database
from rights.erasure import execute_erasure
from service.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.functional.attestations.test_vouching_cascade import Neighbourhood


@pytest.fixture
def hood(runtime: Runtime, session: Session) -> Neighbourhood:
    return Neighbourhood(runtime, session)


def before_each_batch(monkeypatch: pytest.MonkeyPatch, act: Callable[[int], None]) -> None:
    """Run `act(n)` just before batch n takes the graph lock: what a concurrent request does
    while the settle is between two batches."""
    taken = 0
    real = settle_module.lock_named

    def lock_named(session: Session, name: str) -> None:
        nonlocal taken
        act(taken)
        taken += 1
        real(session, name)

    monkeypatch.setattr(settle_module, "lock_named", lock_named)


def erase_without_vouching(hood: Neighbourhood, name: str, day: float) -> None:
    """An erasure the graph did not hear of: what rested on the account is left to settle."""
    execute_erasure(
        hood.session,
        hood.runtime.oidc,
        account_id=hood.ids[name],
        requested_by="operator",
        actor="operator:test",
        now=hood.day(day),
    )
    hood.session.commit()


def test_every_batch_decides_as_one_settle_would(hood: Neighbourhood) -> None:
    """Five residents on two seeds each; one seed's erasure undermines three of them."""
    hood.seed("anna", "bert", "cor", "dirk")
    residents = ("r1", "r2", "r3", "r4", "r5")
    hood.add(*residents)
    for name in residents:
        first, second = ("anna", "bert") if name in ("r1", "r2", "r3") else ("cor", "dirk")
        hood.confirm(first, name, 0)
        hood.confirm(second, name, 0)
        hood.claim(name, 1)
    erase_without_vouching(hood, "anna", 10)
    outcome = vouching.settle(
        hood.session,
        hood.runtime.subject_keys,
        hood.config,
        now=hood.day(11),
        listener=hood.listener,
        batch=2,
    )
    assert hood.lapsed(outcome) == {"r1", "r2", "r3"}
    assert sorted(name for name, _ in hood.changes) == ["r1", "r2", "r3"]  # each told once
    assert hood.holders(11) == {"r4", "r5"}
    assert hood.settle(12).lapsed == ()


def test_a_grant_made_between_batches_is_judged_when_its_voucher_lapses(
    hood: Neighbourhood, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Klaas's grant rests on Anna, erased without the graph hearing of it. The settle reads
    the accounts to judge (Klaas alone); before Klaas's batch takes the lock, Klaas, whose
    attestation is old enough, and Bert confirm Vera, who claims. Klaas's batch re-reads the
    graph: Klaas lapses, and unwinding what rested on him ends Vera's new grant too."""
    hood.seed("anna", "bert")
    hood.add("klaas", "vera")
    hood.confirm("anna", "klaas", 0)
    hood.confirm("bert", "klaas", 0)
    hood.claim("klaas", 1)
    erase_without_vouching(hood, "anna", 40)

    def meanwhile(batch: int) -> None:
        if batch == 0:
            hood.confirm("klaas", "vera", 41)
            hood.confirm("bert", "vera", 41)
            hood.claim("vera", 41)

    before_each_batch(monkeypatch, meanwhile)
    outcome = vouching.settle(
        hood.session, hood.runtime.subject_keys, hood.config, now=hood.day(42), batch=1
    )
    assert hood.lapsed(outcome) == {"klaas", "vera"}
    assert hood.holders(42) == set()


def test_the_graph_lock_is_free_between_batches(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a database whose commits are real, a confirmation from another connection goes
    through while the settle is between batches (it would wait for the whole sweep if the
    settle held the lock throughout)."""
    database = Database.from_url(fresh_database)
    runtime = build_runtime(make_settings(tmp_path / "data", fresh_database), database)
    with database.transaction() as session:
        runtime.keyring.ensure_keys(session)
    try:
        with database.session() as session:
            hood = Neighbourhood(runtime, session)
            hood.seed("anna", "bert", "cor")
            hood.add("r1", "r2", "r3", "newcomer")
            for name in ("r1", "r2", "r3"):
                hood.confirm("anna", name, 0)
                hood.confirm("bert", name, 0)
                hood.claim(name, 1)
            opened = vouching.open_request(
                session,
                runtime.subject_keys,
                runtime.vouching,
                vouchee_id=hood.ids["newcomer"],
                now=hood.day(2),
            )
            session.commit()
            done = threading.Event()
            failed: list[BaseException] = []

            def confirm_elsewhere() -> None:
                try:
                    with database.transaction() as other:
                        vouching.confirm(
                            other,
                            runtime.subject_keys,
                            runtime.vouching,
                            voucher_id=hood.ids["cor"],
                            request_id=opened.id,
                            now=hood.day(2),
                        )
                    done.set()
                except BaseException as exc:  # reported by the test, not lost in the thread
                    failed.append(exc)

            def meanwhile(batch: int) -> None:
                if batch == 1:  # the first batch committed; the second has not begun
                    worker = threading.Thread(target=confirm_elsewhere, daemon=True)
                    worker.start()
                    worker.join(timeout=20)
                    assert not failed, failed
                    assert done.is_set(), "the confirmation waited for the settle"

            before_each_batch(monkeypatch, meanwhile)
            outcome = vouching.settle(
                session, runtime.subject_keys, runtime.vouching, now=hood.day(2), batch=1
            )
            assert outcome.lapsed == () and done.is_set()
            confirmed = session.scalars(
                select(Confirmation).where(Confirmation.vouchee_id == hood.ids["newcomer"])
            ).all()
            assert len(confirmed) == 1
            assert len(session.scalars(select(PeerGrant)).all()) == 3
            session.commit()
    finally:
        database.dispose()
