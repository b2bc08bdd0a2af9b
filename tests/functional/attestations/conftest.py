from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.issuance import CreatedOffer, create_offer
from keys import SubjectKeys
from tests.conftest import TEST_ISSUER
from tests.support.attestations import INPUTS, make_account
from tests.support.wallet import Wallet

MakeOffer = Callable[..., CreatedOffer]


@pytest.fixture
def account(session: Session, subject_keys: SubjectKeys) -> str:
    account_id = make_account(session, subject_keys)
    session.commit()
    return account_id


@pytest.fixture
def make_offer(session: Session, subject_keys: SubjectKeys, account: str) -> MakeOffer:
    def make(type_id: str = "postcode", **claims: object) -> CreatedOffer:
        created = create_offer(
            session,
            subject_keys,
            AttestationConfig(TEST_ISSUER),
            account_id=account,
            type_id=type_id,
            claims={**INPUTS[type_id], **claims},
            actor="operator:cli",
        )
        session.commit()
        return created

    return make


@pytest.fixture
def wallet(client: TestClient) -> Wallet:
    return Wallet(client)
