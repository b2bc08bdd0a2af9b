"""Erasure of an attestation type reaches the built-in wallet: its copies of the credentials
are deleted (the resident's data key stays, so leaving them would leave the claims readable),
and every platform that got the type's claims through the wallet is told."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.outbox import Delivery
from attestations.config import AttestationConfig
from attestations.sdjwt import HeldSdJwt
from attestations.wallet import issue_to_wallet, usable_credentials
from attestations.wallet.models import WalletCredential
from attestations.wallet.store import sd_jwt_field
from audit.models import AuditEntry
from consent.ledger import active_claims, record_decision
from rights.field_erasure import execute_field_erasure, of_field
from rights.models import ErasureRequest
from rights.signals import TOKEN_CLAIMS_CHANGE
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.attestations import INPUTS
from tests.support.oidc import RP, Resident, make_resident, make_rp


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


def wallet_consent(
    session: Session, runtime: Runtime, account_id: str, rp: RP, *names: str
) -> None:
    """What the built-in wallet's approval records: DCQL claim paths joined by "."."""
    record_decision(
        session,
        account_id=account_id,
        subject_ref=runtime.subject_keys.reference(session, account_id),
        client_id=rp.client_id,
        given=names,
        refused=[],
        method="wallet",
    )
    session.commit()


def test_platforms_that_got_the_type_through_the_wallet_under_dcql_paths_are_told(
    runtime: Runtime, session: Session, resident: Resident
) -> None:
    by_path = make_rp(session, events_uri="https://buurt.example.nl/events")
    by_age = make_rp(
        session,
        name="Stemwijzer",
        redirect_uris=["https://stem.example.com/cb"],
        post_logout_redirect_uris=[],
        events_uri="https://stem.example.com/events",
    )
    to_wallet(runtime, session, resident.account_id, "postcode")
    wallet_consent(session, runtime, resident.account_id, by_path, "municipality.code", "postcode")
    wallet_consent(session, runtime, resident.account_id, by_age, "age_over_65")
    erase(runtime, session, resident.account_id, "postcode")

    (request,) = session.scalars(select(ErasureRequest))
    (notice,) = session.scalars(select(Delivery).where(Delivery.correlation_id == request.id))
    assert notice.client_id == by_path.client_id
    event = notice.payload["events"][TOKEN_CLAIMS_CHANGE]
    assert event["claims"] == {"municipality.code": None, "postcode": None}
    assert active_claims(session, resident.account_id, by_path.client_id) == set()
    assert active_claims(session, resident.account_id, by_age.client_id) == {"age_over_65"}


@pytest.mark.parametrize(
    ("field", "claim", "belongs"),
    [
        ("postcode", "postcode", True),
        ("postcode", "postcode_area", True),
        ("postcode", "municipality", True),
        ("postcode", "municipality.name", True),
        ("postcode", "residence_source", True),
        ("postcode", "email", False),
        ("postcode", "name", False),
        ("age", "age_over_21", True),
        ("age", "age_over_18", True),
        ("age", "postcode", False),
        ("real_person", "real_person", True),
        ("real_person", "verification", True),
        ("name", "name", True),
        ("name", "municipality.name", False),
    ],
)
def test_claims_of_a_field_include_the_types_dcql_paths(
    field: str, claim: str, belongs: bool
) -> None:
    assert of_field(field, claim) is belongs
