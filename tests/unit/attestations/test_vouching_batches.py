"""What the cascade does for thousands at once writes what the one-at-a-time functions write:
revocations with their audit entries (`revoke_credentials` as `revoke_credential`), and the
audit references of many residents (`SubjectKeys.references` as `reference`)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.models import IssuedCredential
from attestations.statuslist import record_issued, revoke_credential, revoke_credentials
from audit.models import AuditEntry
from core.db import utcnow
from core.errors import InvalidInput
from keys import SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import make_account

CONFIG = AttestationConfig(TEST_ISSUER, status_list_size=1024)


def issued(session: Session, account: str, count: int) -> list[str]:
    now = utcnow()
    return [
        record_issued(
            session,
            CONFIG,
            account_id=account,
            type_id="real_person",
            issued_at=now,
            expires_at=now + dt.timedelta(days=365),
        ).id
        for _ in range(count)
    ]


def revocation_entries(session: Session) -> list[tuple[str, str | None, dict[str, object]]]:
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.subject_ref, AuditEntry.entry)
        .where(AuditEntry.event == "attestation.revoked")
        .order_by(AuditEntry.idx)
    )
    return [(actor, ref, json.loads(entry)["details"]) for actor, ref, entry in rows]


def test_revoking_many_writes_what_revoking_each_writes(
    session: Session, subject_keys: SubjectKeys
) -> None:
    account = make_account(session, subject_keys)
    one, *many = issued(session, account, 4)
    now = utcnow()
    revoke_credential(session, one, "vouch_withdrawn", "system", now)
    single = revocation_entries(session)

    newly = revoke_credentials(session, [*many, one, many[0]], "vouch_withdrawn", "system", now)

    assert newly == sorted(many)  # the one revoked before is not revoked (nor audited) again
    entries = revocation_entries(session)
    assert entries[: len(single)] == single
    assert entries[len(single) :] == [
        ("system", None, {"credential_id": i, "type": "real_person", "reason": "vouch_withdrawn"})
        for i in sorted(many)
    ]
    assert [e[0:2] for e in single] == [("system", None)]
    assert single[0][2].keys() == entries[-1][2].keys()
    rows = session.scalars(select(IssuedCredential).where(IssuedCredential.account_id == account))
    assert {(r.revoked_at, r.revocation_reason) for r in rows} == {(now, "vouch_withdrawn")}
    assert revoke_credentials(session, [], "vouch_withdrawn", "system", now) == []
    with pytest.raises(InvalidInput):
        revoke_credentials(session, many, "Not A Code", "system", now)


def test_references_of_many_are_each_ones_reference_and_skip_the_erased(
    session: Session, subject_keys: SubjectKeys
) -> None:
    accounts = [make_account(session, subject_keys) for _ in range(3)]
    subject_keys.destroy(session, accounts[2])
    found = subject_keys.references(session, [*accounts, accounts[0]])
    assert found == {a: subject_keys.reference(session, a) for a in accounts[:2]}
    assert subject_keys.references(session, accounts[:1], "pseudonym") == {
        accounts[0]: subject_keys.reference(session, accounts[0], "pseudonym")
    }
    assert (
        found[accounts[0]]
        != subject_keys.references(session, accounts[:1], "pseudonym")[accounts[0]]
    )
