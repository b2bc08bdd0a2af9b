"""A lapse e-mail the mail server refused is not lost: it stays owed (what it says, never the
address) and the background worker tries again, later and later, then gives up; a resident
erased meanwhile is mailed nothing, and a message sent is owed no longer."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.vouching.models import PeerGrant
from core import utcnow
from keys import Keyring
from rights import send_owed_mails, settle_vouching
from rights.erasure import execute_erasure
from rights.models import LapseMail
from rights.vouching_mail import ATTEMPTS, FIRST_RETRY, stage_lapse_mails
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.functional.rights.test_vouching_cli import invoke
from tests.functional.rights.test_vouching_mail import lapse_mails, outbox, told_plainly
from tests.functional.rights.vouching_world import EMAILS, World, build_world
from tests.support.databases import committing_database
from tests.support.oidc import make_resident


class MailServerDown(Exception):
    pass


@pytest.fixture
def world(client: TestClient, runtime: Runtime, session: Session) -> World:
    return build_world(client, runtime, session, steward_logged_in=False)


@pytest.fixture
def refusing(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The mail server refuses every message while the list holds "down"."""
    state = ["down"]
    send = outbox(runtime).send

    def maybe(to: str, subject: str, body: str) -> None:
        if state:
            raise MailServerDown("connection refused")
        send(to, subject, body)

    monkeypatch.setattr(outbox(runtime), "send", maybe)
    return state


def lapse_klaas(runtime: Runtime, session: Session, world: World) -> None:
    """An erasure the graph did not hear of, then the settle: Klaas loses real_person."""
    execute_erasure(
        session, runtime.oidc, account_id=world["jan"], requested_by="operator", actor="t"
    )
    session.commit()
    settle_vouching(session, runtime.oidc, runtime.vouching, mailer=runtime.accounts.mailer)


def owed(session: Session) -> list[LapseMail]:
    session.expire_all()
    return list(session.scalars(select(LapseMail)))


def worker_round(runtime: Runtime, at: dt.datetime) -> int:
    mailer = runtime.accounts.mailer
    return send_owed_mails(runtime.db, mailer, runtime.subject_keys, TEST_ISSUER, now=at)


def test_a_mail_the_server_refused_is_sent_by_the_background_worker_later(
    runtime: Runtime, session: Session, world: World, refusing: list[str]
) -> None:
    lapse_klaas(runtime, session, world)
    assert lapse_mails(runtime) == []
    [row] = owed(session)
    assert (row.account_id, row.reason, row.attempts) == (world["klaas"], "below_threshold", 1)
    # what it says, not to whom: no column holds the address
    stored = {c.key: getattr(row, c.key) for c in inspect(LapseMail).column_attrs}
    assert EMAILS["klaas"] not in repr(stored)

    refusing.clear()  # the mail server is back
    assert worker_round(runtime, utcnow()) == 0  # not due yet
    assert worker_round(runtime, utcnow() + FIRST_RETRY + dt.timedelta(seconds=1)) == 1
    [mail] = lapse_mails(runtime)
    assert mail["To"] == EMAILS["klaas"]
    assert "ingetrokken: een van de bevestigingen" in told_plainly(mail)
    assert owed(session) == []
    assert worker_round(runtime, utcnow() + dt.timedelta(days=2)) == 0  # sent once


def test_tries_again_later_and_later_then_gives_up(
    runtime: Runtime,
    session: Session,
    world: World,
    refusing: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    lapse_klaas(runtime, session, world)
    at = utcnow()
    waits = []
    for attempts in range(2, ATTEMPTS):
        [row] = owed(session)
        at = row.next_attempt_at
        assert worker_round(runtime, at) == 0
        [row] = owed(session)
        assert row.attempts == attempts
        waits.append(row.next_attempt_at - at)
    assert waits == [FIRST_RETRY * 2 ** (n - 1) for n in range(2, ATTEMPTS)]
    assert sum(waits, FIRST_RETRY) > dt.timedelta(hours=20)
    with caplog.at_level(logging.WARNING, logger="kluis.vouching"):
        assert worker_round(runtime, at + waits[-1]) == 0
    assert owed(session) == []
    assert [r.getMessage() for r in caplog.records][-2:] == [
        "vouching: a lapse e-mail could not be sent",
        f"vouching: a lapse e-mail could not be sent after {ATTEMPTS} tries; given up",
    ]
    assert lapse_mails(runtime) == []


def test_a_resident_erased_meanwhile_is_mailed_nothing(
    runtime: Runtime, session: Session, world: World, refusing: list[str]
) -> None:
    lapse_klaas(runtime, session, world)
    assert len(owed(session)) == 1
    execute_erasure(
        session, runtime.oidc, account_id=world["klaas"], requested_by="resident", actor="t"
    )
    session.commit()
    refusing.clear()
    assert worker_round(runtime, utcnow() + dt.timedelta(days=1)) == 0
    assert lapse_mails(runtime) == [] and owed(session) == []


def test_a_mail_sent_at_the_commit_is_owed_no_longer(
    runtime: Runtime, session: Session, world: World
) -> None:
    lapse_klaas(runtime, session, world)
    assert len(lapse_mails(runtime)) == 1
    assert owed(session) == []


@pytest.mark.parametrize("server", ["up", "down"])
def test_on_a_database_that_commits_for_real_what_was_sent_is_forgotten_and_the_rest_kept(
    runtime: Runtime, fresh_database: str, keyring: Keyring, server: str
) -> None:
    """After the deciding commit the sent message is forgotten in a transaction of its own,
    on the engine (SQLite: through its writer queue), not in the test's savepoint."""
    with committing_database(fresh_database, keyring) as db:
        with db.session() as session:
            resident = make_resident(runtime, session, email=EMAILS["klaas"], name=None)
            now = utcnow()
            grant = PeerGrant(
                id=uuid.uuid4().hex,
                account_id=resident.account_id,
                offer_id=uuid.uuid4().hex,
                granted_at=now - dt.timedelta(days=400),
                expires_at=now - dt.timedelta(days=35),
                confirmations=2,
                lapsed_at=now - dt.timedelta(days=35),
                lapse_reason="expired",
                language="en",
            )
            session.add(grant)
            session.commit()
            mailer = outbox(runtime)
            lapse = vouching.Lapse(resident.account_id, grant.id, (), True)
            with pytest.MonkeyPatch.context() as patch:
                if server == "down":
                    patch.setattr(mailer, "send", _refuse)
                staged = stage_lapse_mails(
                    session, mailer, runtime.subject_keys, TEST_ISSUER, [lapse]
                )
                assert staged == 1
                session.commit()
        with db.engine.connect() as conn:  # what another connection sees
            kept = conn.execute(select(LapseMail.account_id)).scalars().all()
        assert len(lapse_mails(runtime)) == (1 if server == "up" else 0)
        assert kept == ([] if server == "up" else [resident.account_id])


def _refuse(to: str, subject: str, body: str) -> None:
    raise MailServerDown("connection refused")


def test_a_round_claims_each_mail_before_sending_it_so_no_other_round_sends_it_too(
    runtime: Runtime, session: Session, world: World, refusing: list[str]
) -> None:
    lapse_klaas(runtime, session, world)
    refusing.clear()
    at = utcnow() + FIRST_RETRY + dt.timedelta(seconds=1)
    mailer = outbox(runtime)
    send = mailer.send
    inner: list[int] = []

    def slow_send(to: str, subject: str, body: str) -> None:
        # another process's round, while this one waits for the mail server
        inner.append(worker_round(runtime, at))
        send(to, subject, body)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mailer, "send", slow_send)
        assert worker_round(runtime, at) == 1
    assert inner == [0] and len(lapse_mails(runtime)) == 1


def test_a_round_stops_at_the_first_refusal(
    runtime: Runtime, session: Session, world: World, refusing: list[str]
) -> None:
    lapse_klaas(runtime, session, world)
    [klaas] = owed(session)
    session.add(
        LapseMail(
            account_id=world["piet"],
            reason="expired",
            lapsed_at=klaas.lapsed_at,
            language="nl",
            attempts=1,
            next_attempt_at=klaas.next_attempt_at,
        )
    )
    session.commit()
    assert worker_round(runtime, utcnow() + dt.timedelta(hours=1)) == 0
    # one was tried (and waits longer now); the mail server being down, the other was not
    assert sorted(row.attempts for row in owed(session)) == [1, 2]


def test_a_later_lapse_replaces_the_unsent_mail_of_an_earlier_one(
    runtime: Runtime, session: Session, world: World, refusing: list[str]
) -> None:
    lapse_klaas(runtime, session, world)
    [first] = owed(session)
    first_lapsed = first.lapsed_at
    [grant] = session.scalars(select(PeerGrant).where(PeerGrant.account_id == world["klaas"]))
    grant.lapsed_at, grant.lapse_reason = utcnow(), "expired"
    lapse = vouching.Lapse(world["klaas"], grant.id, (), True)
    mailer = runtime.accounts.mailer
    stage_lapse_mails(session, mailer, runtime.subject_keys, TEST_ISSUER, [lapse])
    session.commit()
    [row] = owed(session)
    assert (row.reason, row.attempts) == ("expired", 1) and row.lapsed_at > first_lapsed


def test_a_released_savepoint_sends_nothing_before_the_decision_commits(
    runtime: Runtime, session: Session, world: World
) -> None:
    [grant] = session.scalars(select(PeerGrant).where(PeerGrant.account_id == world["klaas"]))
    lapse = vouching.Lapse(world["klaas"], grant.id, (), True)
    mailer = runtime.accounts.mailer
    for decided in (False, True):
        grant.lapsed_at, grant.lapse_reason = utcnow(), "expired"  # (again after the rollback)
        staged = stage_lapse_mails(session, mailer, runtime.subject_keys, TEST_ISSUER, [lapse])
        assert staged == 1
        with session.begin_nested():
            pass  # released: not the decision's commit
        assert lapse_mails(runtime) == []
        if decided:
            session.commit()
        else:
            session.rollback()
    [mail] = lapse_mails(runtime)  # the committed one only
    assert mail["To"] == EMAILS["klaas"]


def test_a_settle_cut_short_after_its_batches_committed_has_mailed_what_they_decided(
    runtime: Runtime, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    execute_erasure(
        session, runtime.oidc, account_id=world["jan"], requested_by="operator", actor="t"
    )
    session.commit()
    settle = vouching.settle

    def cut_short(*args: object, **kwargs: object) -> None:
        settle(*args, **kwargs)  # type: ignore[arg-type]
        raise ConnectionError("the worker's process ends here")

    monkeypatch.setattr(vouching, "settle", cut_short)
    with pytest.raises(ConnectionError):
        settle_vouching(session, runtime.oidc, runtime.vouching, mailer=runtime.accounts.mailer)
    [mail] = lapse_mails(runtime)  # sent at the commit of the batch that decided it
    assert mail["To"] == EMAILS["klaas"]


def test_an_operator_sees_what_is_owed_and_sends_it_once_the_mail_server_is_back(
    runtime: Runtime, session: Session, world: World, refusing: list[str]
) -> None:
    lapse_klaas(runtime, session, world)
    shown = invoke(runtime, "mails", "--json")
    assert shown.exit_code == 0, shown.output
    owed_now = json.loads(shown.output)
    assert (owed_now["owed"], owed_now["most_tries"]) == (1, 1) and owed_now["next_try_at"]
    assert EMAILS["klaas"] not in shown.output  # counts only

    still_down = invoke(runtime, "mails", "--send-now")
    assert "sent now: 0" in still_down.output and "lapse e-mails owed: 1" in still_down.output
    refusing.clear()
    sent = invoke(runtime, "mails", "--send-now")  # not due for hours: sent anyway
    assert sent.exit_code == 0, sent.output
    assert sent.output.splitlines() == ["sent now: 1", "lapse e-mails owed: 0"]
    [mail] = lapse_mails(runtime)
    assert mail["To"] == EMAILS["klaas"]
