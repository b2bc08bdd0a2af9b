"""Erasure of an attestation type reaches the built-in wallet: its copies of the credentials
are deleted (the resident's data key stays, so leaving them would leave the claims readable),
and every platform that got the type's claims through the wallet is told."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.sdjwt import HeldSdJwt
from attestations.wallet import issue_to_wallet, usable_credentials
from attestations.wallet.models import WalletCredential
from attestations.wallet.store import sd_jwt_field
from consent.field_erasure import execute_field_erasure
from consent.models import AuditEntry
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.attestations import INPUTS
from tests.support.oidc import Resident, make_resident


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    return make_resident(runtime, session, client)


def to_wallet(runtime: Runtime, session: Session, account_id: str, type_id: str) -> None:
    issue_to_wallet(
        session,
        runtime.keyring,
        runtime.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=account_id,
        type_id=type_id,
        claims=INPUTS[type_id],
        actor="operator:cli",
    )
    session.commit()


def erase(runtime: Runtime, session: Session, account_id: str, field: str) -> None:
    execute_field_erasure(
        session,
        runtime.oidc,
        account_id=account_id,
        field=field,
        requested_by="resident",
        actor="resident",
    )
    session.commit()


def test_erasing_postcode_leaves_no_decryptable_wallet_copy_of_it(
    runtime: Runtime, session: Session, resident: Resident
) -> None:
    to_wallet(runtime, session, resident.account_id, "postcode")
    to_wallet(runtime, session, resident.account_id, "age")
    erase(runtime, session, resident.account_id, "postcode")

    session.expire_all()
    rows = list(
        session.scalars(
            select(WalletCredential).where(WalletCredential.account_id == resident.account_id)
        )
    )
    assert [row.type for row in rows] == ["age"]  # the other type stays
    # what the reviewer did: decrypt every stored SD-JWT with the data key, which still exists
    for row in rows:
        sd_jwt = runtime.subject_keys.decrypt(
            session, resident.account_id, sd_jwt_field(row.id), row.sd_jwt_enc
        )
        claims = HeldSdJwt.parse(sd_jwt).claims
        assert not {"postcode", "postcode_area", "municipality"} & set(claims)
        assert "GM0363" not in sd_jwt
    held = usable_credentials(session, runtime.subject_keys, resident.account_id)
    assert [h.type for h in held] == ["age"]
    assert all("postcode" not in h.claims and "municipality" not in h.claims for h in held)
    (executed,) = session.scalars(select(AuditEntry).where(AuditEntry.event == "erasure.executed"))
    assert json.loads(executed.entry)["details"]["wallet_credentials"] == 1
