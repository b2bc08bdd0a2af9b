"""`kluis vouching seeds|reports|decide|settle`, and the background worker's periodic settle:
accounts are named by e-mail address or user name on the command line and only by user name or
opaque reference in the output; every action is audited."""

from __future__ import annotations

import json
import threading

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import vouching
from audit.models import AuditEntry
from identity.accounts.models import Account
from rights import vouching_cli
from rights.erasure import execute_erasure
from service import app as service_app
from service.runtime import Runtime
from tests.functional.rights.vouching_world import (
    EMAILS,
    NAMES,
    World,
    build_world,
    claims_changes,
)


def invoke(runtime: Runtime, *args: str) -> Result:
    return CliRunner().invoke(vouching_cli, list(args), obj=runtime)


@pytest.fixture
def world(client: TestClient, runtime: Runtime, session: Session) -> World:
    return build_world(client, runtime, session, steward_logged_in=False)


def ref(session: Session, runtime: Runtime, account: str) -> str:
    return runtime.subject_keys.reference(session, account)


def handle(session: Session, account: str) -> str:
    found = session.get(Account, account)
    assert found is not None
    return found.handle


def test_seeds_are_appointed_listed_and_removed_by_email_or_user_name(
    runtime: Runtime, session: Session, world: World
) -> None:
    klaas = world["klaas"]
    added = invoke(runtime, "seeds", "add", EMAILS["klaas"].upper())
    assert added.exit_code == 0, added.output
    assert added.output.strip() == f"{ref(session, runtime, klaas)} is now a seed voucher"
    again = invoke(runtime, "seeds", "add", handle(session, klaas))
    assert "already was a seed voucher" in again.output

    listing = invoke(runtime, "seeds", "list", "--json")
    rows = json.loads(listing.output)
    assert [r["username"] for r in rows] == [
        handle(session, world[who]) for who in ("jan", "piet", "klaas")
    ]
    assert rows[2]["subject_ref"] == ref(session, runtime, klaas)
    text = invoke(runtime, "seeds", "list").output
    for personal in (*EMAILS.values(), *NAMES.values(), klaas):
        assert personal not in text + listing.output

    removed = invoke(runtime, "seeds", "remove", handle(session, klaas))
    assert "is no longer a seed voucher" in removed.output
    assert not vouching.is_seed(session, klaas)
    assert "was not a seed voucher" in invoke(runtime, "seeds", "remove", EMAILS["klaas"]).output
    for unknown in ("niemand@example.org", "bewoner-zzzzzz", "geen adres@"):
        failed = invoke(runtime, "seeds", "add", unknown)
        assert failed.exit_code == 1 and "no such account" in failed.output
    entries = session.scalars(
        select(AuditEntry).where(
            AuditEntry.event.like("vouching.seed_%"),
            AuditEntry.subject_ref == ref(session, runtime, klaas),
        )
    ).all()
    assert [e.event for e in entries] == ["vouching.seed_appointed", "vouching.seed_removed"]
    assert all('"actor":"operator:cli"' in e.entry for e in entries)


def test_reports_and_a_decision_by_a_steward(
    runtime: Runtime, session: Session, world: World
) -> None:
    assert invoke(runtime, "reports").output.strip() == "no open reports"
    report = vouching.report_fake(
        session, runtime.subject_keys, reporter_id=world["piet"], reported_id=world["jan"]
    )
    session.commit()
    [line] = json.loads(invoke(runtime, "reports", "--json").output)
    assert line["report_id"] == report and line["subject_ref"] == ref(
        session, runtime, world["jan"]
    )
    assert invoke(runtime, "reports").output.startswith(f"{report}  {line['subject_ref']}")

    usage = invoke(runtime, "decide", report, "--steward", EMAILS["steward"])
    assert usage.exit_code == 2 and "--fake or --dismiss" in usage.output
    not_steward = invoke(runtime, "decide", report, "--fake", "--steward", EMAILS["piet"])
    assert not_steward.exit_code == 1 and "steward role" in not_steward.output
    unknown = invoke(runtime, "decide", "0" * 32, "--fake", "--steward", EMAILS["steward"])
    assert unknown.exit_code == 1 and "no such open report" in unknown.output
    own = vouching.report_fake(
        session, runtime.subject_keys, reporter_id=world["piet"], reported_id=world["steward"]
    )
    session.commit()
    judge = invoke(runtime, "decide", own, "--dismiss", "--steward", EMAILS["steward"])
    assert judge.exit_code == 1 and "own account" in judge.output

    decided = invoke(runtime, "decide", report, "--fake", "--steward", EMAILS["steward"], "--json")
    assert decided.exit_code == 0, decided.output
    outcome = json.loads(decided.output)
    assert outcome["fake"] and outcome["withdrawn"] == 1
    assert outcome["lost_real_person"] == [ref(session, runtime, world["klaas"])]
    assert outcome["platform_events"] == 1 and len(claims_changes(session)) == 1
    again = invoke(runtime, "decide", report, "--dismiss", "--steward", EMAILS["steward"])
    assert again.exit_code == 1


def erase_without_vouching(session: Session, runtime: Runtime, account: str) -> None:
    """An erasure that skipped peer vouching (made without its config): the account's
    confirmations vanish with it, and only the next settle notices."""
    execute_erasure(session, runtime.oidc, account_id=account, requested_by="operator", actor="t")
    session.commit()
    assert vouching.progress(session, runtime.vouching, account).confirmations == 0


def test_settle_catches_what_changed_outside_vouching(
    runtime: Runtime, session: Session, world: World
) -> None:
    erase_without_vouching(session, runtime, world["jan"])
    assert claims_changes(session) == []
    klaas = ref(session, runtime, world["klaas"])
    settled = invoke(runtime, "settle", "--json")
    assert settled.exit_code == 0, settled.output
    assert json.loads(settled.output) == {
        "lapsed": 1,
        "lost_real_person": [klaas],
        "platform_events": 1,
    }
    assert len(claims_changes(session)) == 1
    nothing = invoke(runtime, "settle")
    assert nothing.output.startswith("peer proofs lapsed: 0;")


class OneRound(threading.Event):
    """A stop event that lets the worker loop run exactly one round."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_the_background_worker_settles_on_its_first_round_and_then_hourly(
    runtime: Runtime, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runtime.settings.vouching_settle_interval == 3600
    monkeypatch.setattr(runtime.outbox, "deliver_due", lambda: 0)  # no network
    erase_without_vouching(session, runtime, world["jan"])
    service_app._outbox_loop(runtime, OneRound())
    session.expire_all()
    assert not vouching.progress(session, runtime.vouching, world["klaas"]).verified
    assert len(claims_changes(session)) == 1
