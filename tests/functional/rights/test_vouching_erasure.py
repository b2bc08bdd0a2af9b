"""Erasure and peer vouching (issue 10): before an account is erased, the confirmations it gave
stop counting and the cascade runs (a resident left below the threshold loses the peer
`real_person` attestation, and the platforms receiving it are told); afterwards no row of the
vouching tables names the erased account."""

from __future__ import annotations

import re

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.models import IssuedCredential
from audit.models import AuditEntry
from core import Base
from identity.accounts.sessions import SESSION_COOKIE, start_browser_session
from rights import delete_account
from service.runtime import Runtime
from tests.functional.rights.vouching_world import EMAILS, World, build_world, claims_changes

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def rows_naming(session: Session, account_id: str) -> list[str]:
    """Every row of a vouching table with a value equal to the account id."""
    found = []
    for name, table in Base.metadata.tables.items():
        if name.startswith("vouching_"):
            for row in session.execute(select(table)):
                if account_id in [str(v) for v in row]:
                    found.append(name)
    return found


def with_loose_ends(session: Session, runtime: Runtime, world: World) -> None:
    """Jan also reported Piet, was reported himself, and has a keyed address on file."""
    keys = runtime.subject_keys
    vouching.report_fake(session, keys, reporter_id=world["jan"], reported_id=world["piet"])
    vouching.report_fake(session, keys, reporter_id=world["klaas"], reported_id=world["jan"])
    vouching.record_address(
        session,
        keys,
        runtime.vouching,
        account_id=world["jan"],
        postcode="1087AB",
        house_number=12,
        source="desk",
        actor="desk:test",
    )
    vouching.open_request(session, keys, runtime.vouching, vouchee_id=world["jan"])
    session.commit()


def assert_klaas_lost_real_person(session: Session, runtime: Runtime, world: World) -> None:
    [credential] = session.scalars(
        select(IssuedCredential).where(IssuedCredential.account_id == world["klaas"])
    ).all()
    assert credential.revoked_at is not None
    assert credential.revocation_reason == "vouch_withdrawn"
    progress = vouching.progress(session, runtime.vouching, world["klaas"])
    assert progress.confirmations == 1 and not progress.verified
    [event] = claims_changes(session)
    assert event.client_id == world.rp.client_id
    assert next(iter(event.payload["events"].values()))["claims"] == {"real_person": None}


def test_a_resident_deleting_their_account_unwinds_what_their_confirmation_held_up(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    world = build_world(client, runtime, session, steward_logged_in=False)
    with_loose_ends(session, runtime, world)
    jan_ref = runtime.subject_keys.reference(session, world["jan"])
    started = start_browser_session(session, world["jan"], ttl=runtime.accounts.session_ttl)
    session.commit()
    client.cookies.set(SESSION_COOKIE, started.sid)
    [token] = _CSRF.findall(client.get("/account/delete").text)[:1]
    done = client.post(
        "/account/delete",
        data={"confirm": "yes", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text

    session.expire_all()
    assert rows_naming(session, world["jan"]) == []
    assert_klaas_lost_real_person(session, runtime, world)
    withdrawn = session.scalars(
        select(AuditEntry.entry).where(AuditEntry.event == "vouching.confirmation_withdrawn")
    ).one()
    assert '"reason":"erasure"' in withdrawn.replace(" ", "")
    assert jan_ref not in withdrawn  # under the vouchee's reference, naming no voucher


def test_an_operator_erasure_does_the_same_and_a_vouchee_erasure_leaves_no_trace(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    world = build_world(client, runtime, session, steward_logged_in=False)
    with_loose_ends(session, runtime, world)
    result = CliRunner().invoke(delete_account, ["--email", EMAILS["jan"], "--yes"], obj=runtime)
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert rows_naming(session, world["jan"]) == []
    assert_klaas_lost_real_person(session, runtime, world)

    # the vouchee goes too: the confirmation and the lapsed grant go with the account
    result = CliRunner().invoke(delete_account, ["--email", EMAILS["klaas"], "--yes"], obj=runtime)
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert rows_naming(session, world["klaas"]) == []
    assert vouching.seed_accounts(session)[0][0] == world["piet"]
