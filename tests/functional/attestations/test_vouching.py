"""Peer vouching in the database, through the package's public acts: two seed vouchers confirm
a resident, who collects a `real_person` attestation with `verification: peer` in a wallet
written from the specification; a steward finds one voucher fake, and the resident loses the
attestation (revoked on the status list) because one confirmation no longer reaches the
threshold."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from attestations import vouching
from attestations.models import IssuedCredential
from attestations.sdjwt import HeldSdJwt
from audit.models import AuditEntry
from identity import SESSION_COOKIE
from service.runtime import Runtime
from tests.support.oidc import make_resident
from tests.support.wallet import Wallet


def ask(session: Session, runtime: Runtime, vouchee: str) -> vouching.OpenedRequest:
    opened = vouching.open_request(
        session, runtime.subject_keys, runtime.vouching, vouchee_id=vouchee
    )
    session.commit()
    return opened


def confirm_by_qr(session: Session, runtime: Runtime, voucher: str, vouchee: str) -> str:
    opened = ask(session, runtime, vouchee)
    seen = vouching.preview(
        session, runtime.subject_keys, runtime.vouching, voucher_id=voucher, token=opened.token
    )
    assert seen.check_code == opened.check_code and seen.refusal is None
    confirmation = vouching.confirm(
        session,
        runtime.subject_keys,
        runtime.vouching,
        voucher_id=voucher,
        request_id=seen.request_id,
    )
    session.commit()
    return confirmation


@pytest.fixture
def people(runtime: Runtime, session: Session) -> dict[str, str]:
    residents = {
        who: make_resident(runtime, session, email=f"{who}@example.org", name=name)
        for who, name in (("jan", "Jan"), ("piet", "Piet"), ("klaas", "Klaas"), ("steward", None))
    }
    found = {who: resident.account_id for who, resident in residents.items()}
    found["klaas_sid"] = residents["klaas"].sid
    for seed in ("jan", "piet"):
        vouching.appoint_seed(
            session, runtime.subject_keys, account_id=found[seed], actor="operator:test"
        )
    session.commit()
    return found


def test_two_seed_confirmations_give_a_peer_attestation_and_a_fake_voucher_takes_it_away(
    client: TestClient, runtime: Runtime, session: Session, people: dict[str, str]
) -> None:
    klaas = people["klaas"]
    seen = vouching.preview(
        session,
        runtime.subject_keys,
        runtime.vouching,
        voucher_id=people["jan"],
        token=ask(session, runtime, klaas).token,
    )
    assert seen.vouchee_name == "Klaas" and len(seen.check_code) == 4 and seen.quota_left == 3

    confirm_by_qr(session, runtime, people["jan"], klaas)
    assert vouching.progress(session, runtime.vouching, klaas) == vouching.Progress(
        1, 2, verified=False, can_claim=False
    )
    with pytest.raises(vouching.ThresholdNotMet):
        vouching.issue_peer_attestation(
            session, runtime.subject_keys, runtime.vouching, account_id=klaas
        )
    confirm_by_qr(session, runtime, people["piet"], klaas)
    assert vouching.progress(session, runtime.vouching, klaas).can_claim

    offer = vouching.issue_peer_attestation(
        session, runtime.subject_keys, runtime.vouching, account_id=klaas
    )
    session.commit()
    [stored] = Wallet(client).accept(offer.offer.offer_uri, offer.offer.tx_code)
    claims = HeldSdJwt.parse(stored.credential).claims
    assert claims["real_person"] is True and claims["verification"] == "peer"
    assert vouching.progress(session, runtime.vouching, klaas).verified

    report = vouching.report_fake(
        session, runtime.subject_keys, reporter_id=people["piet"], reported_id=people["jan"]
    )
    decision = vouching.decide(
        session,
        runtime.subject_keys,
        runtime.vouching,
        report_id=report,
        steward_id=people["steward"],
        fake=True,
    )
    session.commit()

    [lapse] = decision.outcome.lapsed
    assert lapse.account_id == klaas and lapse.lost_real_person
    [credential] = session.scalars(
        select(IssuedCredential).where(IssuedCredential.account_id == klaas)
    ).all()
    assert credential.revoked_at is not None and credential.revocation_reason == "vouch_withdrawn"
    assert vouching.progress(session, runtime.vouching, klaas) == vouching.Progress(
        1, 2, verified=False, can_claim=False
    )
    # Klaas's page says what happened and what to do; it names no one
    client.cookies.set(SESSION_COOKIE, people["klaas_sid"])
    page = client.get("/account/vouching", headers={"accept-language": "en"})
    notice = page.text.split('id="vouch-lapsed">')[1].split("</p>")[0]
    assert "withdrawn" in notice and "Ask neighbours to confirm you again" in notice
    assert "Jan" not in notice
    events = session.scalars(select(AuditEntry.event)).all()
    for event in ("vouching.confirmed", "vouching.peer_granted", "vouching.report_decided"):
        assert event in events
    assert "vouching.peer_lapsed" in events and "vouching.confirmation_withdrawn" in events


def test_a_voucher_cannot_confirm_twice_or_beyond_the_quota(
    runtime: Runtime, session: Session, people: dict[str, str]
) -> None:
    jan = people["jan"]
    confirm_by_qr(session, runtime, jan, people["klaas"])
    second = ask(session, runtime, people["klaas"])
    with pytest.raises(vouching.ConfirmationRefused) as refused:
        vouching.confirm(
            session,
            runtime.subject_keys,
            runtime.vouching,
            voucher_id=jan,
            request_id=second.id,
        )
    assert refused.value.reason == "already_confirmed"
    session.rollback()
    others = [
        make_resident(runtime, session, email=f"n{i}@example.org").account_id for i in range(3)
    ]
    confirm_by_qr(session, runtime, jan, others[0])
    confirm_by_qr(session, runtime, jan, others[1])
    seen = vouching.preview(
        session,
        runtime.subject_keys,
        runtime.vouching,
        voucher_id=jan,
        token=ask(session, runtime, others[2]).token,
    )
    assert seen.refusal == "quota" and seen.quota_left == 0
