from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.issuance import CreatedOffer, create_offer
from attestations.verifier.x509 import write_development_ca
from core.db import Database
from keys import SubjectKeys
from service.app import create_app_from_runtime
from service.runtime import build_runtime
from tests.conftest import TEST_ISSUER, make_settings
from tests.support.attestations import INPUTS, make_account
from tests.support.wallet import StoredCredential, Wallet

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


@pytest.fixture
def holder(wallet: Wallet, make_offer: MakeOffer) -> StoredCredential:
    """The wallet holding a postcode credential (what the verifier tests present)."""
    offer = make_offer("postcode")
    [stored] = wallet.accept(offer.offer_uri, offer.tx_code)
    return stored


@pytest.fixture
def dev_ca(tmp_path: Path) -> dict[str, Path]:
    """A DEVELOPMENT CA and a verifier certificate for the test server's host."""
    return write_development_ca(tmp_path / "ca", "testserver")


@pytest.fixture
def x509_client(
    tmp_path: Path, database_url: str, db: Database, dev_ca: dict[str, Path]
) -> Iterator[TestClient]:
    """The app configured with that certificate (client identifier `x509_san_dns:`)."""
    settings = make_settings(
        tmp_path / "x509",
        database_url,
        verifier_x509_key_file=dev_ca["key"],
        verifier_x509_chain_file=dev_ca["chain"],
    )
    app = create_app_from_runtime(build_runtime(settings, db))
    with TestClient(app, base_url=TEST_ISSUER) as client:
        yield client
