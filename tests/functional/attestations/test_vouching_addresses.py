"""The shared-address rule's addresses (`vouching.record_address`): kept only as a keyed hash,
one per account, audited without the address, dropped with an erased postcode, and used by the
rule: two vouchers living at the vouchee's address count once.

The desk and letters record them through their flows (`test_vouching_sources.py`)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import AttestationConfig, create_offer, vouching
from attestations.vouching.models import VouchingAddress
from audit.models import AuditEntry
from core import InvalidInput
from rights.field_erasure import execute_field_erasure
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.attestations import POSTCODE_INPUT
from tests.support.audit import discloses
from tests.support.oidc import make_resident
from tests.support.wallet import Wallet


def record(session: Session, runtime: Runtime, account: str, number: str | int, **kw: str) -> bool:
    changed = vouching.record_address(
        session,
        runtime.subject_keys,
        runtime.vouching,
        account_id=account,
        postcode=kw.pop("postcode", "1087 ab"),
        house_number=number,
        source=kw.pop("source", "desk"),
        actor="desk:test",
        **kw,
    )
    session.commit()
    return changed


def give_postcode(client: TestClient, session: Session, runtime: Runtime, account: str) -> None:
    offer = create_offer(
        session,
        runtime.subject_keys,
        AttestationConfig(TEST_ISSUER),
        account_id=account,
        type_id="postcode",
        claims=POSTCODE_INPUT,
        actor="operator:test",
    )
    session.commit()
    Wallet(client).accept(offer.offer_uri, offer.tx_code)


def test_an_address_is_kept_as_a_keyed_hash_once_per_account(
    runtime: Runtime, session: Session
) -> None:
    account = make_resident(runtime, session, email="a@example.org").account_id
    assert record(session, runtime, account, 12, addition="a")
    assert not record(session, runtime, account, "12", addition=" A", postcode="1087AB")
    row = session.get(VouchingAddress, account)
    assert row is not None and row.source == "desk"
    assert row.address_ref == runtime.vouching.address_ref("1087AB", "12", "A")
    assert len(row.address_ref) == 64
    assert record(session, runtime, account, 14, source="letter")
    session.refresh(row)
    assert row.source == "letter"
    assert row.address_ref == runtime.vouching.address_ref("1087AB", "14")
    entries = session.scalars(
        select(AuditEntry.entry).where(AuditEntry.event == "vouching.address_recorded")
    ).all()
    assert len(entries) == 2
    for entry in entries:
        assert json.loads(entry)["details"] in (
            {"source": "desk", "replaced": False},
            {"source": "letter", "replaced": True},
        )
        assert not discloses(entry, "1087")


@pytest.mark.parametrize(
    ("postcode", "number", "source"),
    [("1087", 12, "desk"), ("1087AB", 0, "desk"), ("1087AB", "12b", "desk"), ("1087AB", 1, "x")],
)
def test_a_malformed_address_or_unknown_source_is_refused(
    runtime: Runtime, session: Session, postcode: str, number: int | str, source: str
) -> None:
    account = make_resident(runtime, session, email="a@example.org").account_id
    with pytest.raises(InvalidInput):
        record(session, runtime, account, number, postcode=postcode, source=source)
    assert session.get(VouchingAddress, account) is None


def test_vouchers_sharing_the_vouchees_address_count_once(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    people = {
        who: make_resident(runtime, session, email=f"{who}@example.org").account_id
        for who in ("jan", "piet", "klaas")
    }
    for seed in ("jan", "piet"):
        vouching.appoint_seed(session, runtime.subject_keys, account_id=people[seed], actor="t")
    for who in people.values():
        give_postcode(client, session, runtime, who)
        record(session, runtime, who, 7)
    for voucher in ("jan", "piet"):
        opened = vouching.open_request(
            session, runtime.subject_keys, runtime.vouching, vouchee_id=people["klaas"]
        )
        vouching.confirm(
            session,
            runtime.subject_keys,
            runtime.vouching,
            voucher_id=people[voucher],
            request_id=opened.id,
        )
        session.commit()
    assert vouching.progress(session, runtime.vouching, people["klaas"]).confirmations == 1
    record(session, runtime, people["piet"], 9)  # Piet moved out
    assert vouching.progress(session, runtime.vouching, people["klaas"]).confirmations == 2


def test_erasing_the_postcode_forgets_the_address(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    account = make_resident(runtime, session, email="a@example.org").account_id
    give_postcode(client, session, runtime, account)
    record(session, runtime, account, 7)
    execute_field_erasure(
        session,
        runtime.oidc,
        account_id=account,
        field="postcode",
        requested_by="resident",
        actor="resident",
    )
    session.commit()
    assert session.get(VouchingAddress, account) is None
    assert (
        vouching.forget_address(session, runtime.subject_keys, account_id=account, actor="t")
        is False
    )
