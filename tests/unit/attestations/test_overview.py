"""What the account page may show: offer and credential metadata with their states."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy.orm import Session

from attestations import (
    AttestationConfig,
    CredentialState,
    OfferState,
    create_offer,
    credentials_for_account,
    offers_for_account,
    revoke_credential,
)
from attestations.config import PRE_AUTH_GRANT
from attestations.issuance import exchange_pre_authorized_code, offer_document
from attestations.models import CredentialOffer
from attestations.statuslist import record_issued
from core.db import utcnow
from core.errors import InvalidGrant
from keys import SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import AGE_INPUT, make_account

CONFIG = AttestationConfig(TEST_ISSUER)
YEAR = dt.timedelta(days=365)


def test_offer_states_follow_use_expiry_and_wrong_codes(
    session: Session, subject_keys: SubjectKeys
) -> None:
    account = make_account(session, subject_keys)
    other = make_account(session, subject_keys)
    now = utcnow()

    def make(at: dt.datetime, who: str = account) -> str:
        created = create_offer(
            session,
            subject_keys,
            dataclasses.replace(CONFIG, max_tx_attempts=2),
            account_id=who,
            type_id="age",
            claims=AGE_INPUT,
            actor="operator:cli",
            now=at,
        )
        return created.offer_id

    make(now - dt.timedelta(hours=2))  # expired
    make(now - dt.timedelta(seconds=3), other)  # someone else's
    assert [o.state for o in offers_for_account(session, account, now=now)] == [OfferState.EXPIRED]
    blocked = make(now - dt.timedelta(seconds=2))
    used = make(now - dt.timedelta(seconds=1))
    make(now)  # open
    for _ in range(2):
        session.get(CredentialOffer, blocked).failed_tx_attempts += 1  # type: ignore[union-attr]
    session.get(CredentialOffer, used).used_at = now  # type: ignore[union-attr]
    session.flush()

    states = [o.state for o in offers_for_account(session, account, now=now, max_tx_attempts=2)]
    assert states == [OfferState.OPEN, OfferState.USED, OfferState.BLOCKED, OfferState.EXPIRED]
    assert offers_for_account(session, account, now=now)[2].state == OfferState.OPEN  # 2 < 5
    assert "claims" not in repr(offers_for_account(session, account, now=now))


def test_credentials_are_summarised_per_issuance(
    session: Session, subject_keys: SubjectKeys
) -> None:
    account = make_account(session, subject_keys)
    now = utcnow()

    def batch(at: dt.datetime, count: int, type_id: str = "age") -> list[str]:
        return [
            record_issued(
                session,
                CONFIG,
                account_id=account,
                type_id=type_id,
                issued_at=at,
                expires_at=at + YEAR,
            ).id
            for _ in range(count)
        ]

    old = batch(now - 2 * YEAR, 2)  # expired
    revoked = batch(now - dt.timedelta(days=2), 2)
    partly = batch(now - dt.timedelta(days=1), 3, "postcode")
    batch(now, 1)
    for issued_id in [*revoked, partly[0]]:
        revoke_credential(session, issued_id, "operator", "operator:cli", now)

    summaries = credentials_for_account(session, account, now=now)
    assert [(s.type, s.copies, s.revoked, s.state) for s in summaries] == [
        ("age", 1, 0, CredentialState.VALID),
        ("postcode", 3, 1, CredentialState.PARTLY_REVOKED),
        ("age", 2, 2, CredentialState.REVOKED),
        ("age", 2, 0, CredentialState.EXPIRED),
    ]
    assert credentials_for_account(session, make_account(session, subject_keys)) == []
    assert old  # the expired batch is listed, not hidden


def test_exchange_of_a_listed_offer_marks_it_used(
    session: Session, subject_keys: SubjectKeys
) -> None:
    account = make_account(session, subject_keys)
    created = create_offer(
        session,
        subject_keys,
        CONFIG,
        account_id=account,
        type_id="age",
        claims=AGE_INPUT,
        actor="operator:cli",
    )
    ref = created.credential_offer_uri.rsplit("/", 1)[1]
    grant = offer_document(session, subject_keys, CONFIG, ref)["grants"][PRE_AUTH_GRANT]
    code = grant["pre-authorized_code"]
    exchange_pre_authorized_code(
        session, CONFIG, {"pre-authorized_code": code, "tx_code": created.tx_code}
    )
    assert [o.state for o in offers_for_account(session, account)] == [OfferState.USED]
    with pytest.raises(InvalidGrant):  # a replay changes nothing the resident sees
        exchange_pre_authorized_code(
            session, CONFIG, {"pre-authorized_code": code, "tx_code": created.tx_code}
        )
    assert [o.state for o in offers_for_account(session, account)] == [OfferState.USED]
