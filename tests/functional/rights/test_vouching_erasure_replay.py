"""Re-applied erasures forget the account in peer vouching, as a fresh erasure does: after
`kluis erasure reapply` or `kluis restore`, a resident whose confirmations came from an erased
voucher loses `real_person` at once (their platform told), not only at the next settle."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.vouching.models import Confirmation, PeerGrant
from audit.models import AuditEntry
from core import Database, utcnow
from identity.accounts.models import Account
from rights.erasure_cli import erasure_cli
from rights.tombstones import Tombstone
from service import restore
from service.runtime import Runtime
from tests.functional.rights.vouching_world import World, build_world, claims_changes


@pytest.fixture
def world(client: TestClient, runtime: Runtime, session: Session) -> World:
    return build_world(client, runtime, session, steward_logged_in=False)


def tombstone_of(session: Session, runtime: Runtime, account: str) -> Tombstone:
    """The journal's record of the account's erasure, which the restored database predates."""
    return Tombstone(
        request_id=uuid.uuid4().hex,
        account_id=account,
        subject_ref=runtime.subject_keys.reference(session, account),
        field=None,
        requested_by="operator",
        actor="operator:cli",
        received_at=utcnow(),
        platforms={},
    )


def by_cli(session: Session, runtime: Runtime, db: Database, tombstone: Tombstone) -> None:
    runtime.tombstones.append([tombstone])
    result = CliRunner().invoke(erasure_cli, ["reapply", "--json"], obj=runtime)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["reapplied_accounts"] == 1


def by_restore(session: Session, runtime: Runtime, db: Database, tombstone: Tombstone) -> None:
    """Step 4 of `kluis restore`, on the (restored) database."""
    _, _, report = restore.reapply(runtime.settings, db, [tombstone], {"backup_sha256": "0" * 64})
    assert report.count("account") == 1


@pytest.mark.parametrize("reapply", [by_cli, by_restore], ids=["erasure-reapply", "restore"])
def test_a_reapplied_erasure_of_a_voucher_unwinds_what_rested_on_it(
    runtime: Runtime,
    session: Session,
    db: Database,
    world: World,
    reapply: Callable[[Session, Runtime, Database, Tombstone], None],
) -> None:
    jan, klaas = world["jan"], world["klaas"]
    assert vouching.progress(session, runtime.vouching, klaas).verified
    tombstone = tombstone_of(session, runtime, jan)

    reapply(session, runtime, db, tombstone)

    session.expire_all()
    assert session.get(Account, jan) is None
    assert session.scalars(select(Confirmation).where(Confirmation.voucher_id == jan)).all() == []
    [grant] = session.scalars(select(PeerGrant).where(PeerGrant.account_id == klaas)).all()
    assert grant.lapse_reason == "below_threshold"
    assert not vouching.progress(session, runtime.vouching, klaas).verified
    assert len(claims_changes(session)) == 1  # the platform that receives real_person is told
    withdrawn = session.scalars(
        select(AuditEntry.entry).where(AuditEntry.event == "vouching.confirmation_withdrawn")
    ).all()
    assert [json.loads(entry)["details"]["reason"] for entry in withdrawn] == ["erasure"]
