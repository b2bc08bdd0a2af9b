from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from attestations.config import AttestationConfig
from attestations.wallet import issue_to_wallet
from attestations.wallet.models import WalletCredential
from service.runtime import Runtime
from tests.conftest import TEST_ISSUER
from tests.support.attestations import INPUTS
from tests.support.oidc import Resident, make_resident

IssueToWallet = Callable[..., list[WalletCredential]]


@pytest.fixture
def resident(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    """A resident logged in to Kluis in `client` (the phone's browser)."""
    return make_resident(runtime, session, client)


@pytest.fixture
def to_wallet(runtime: Runtime, session: Session, resident: Resident) -> IssueToWallet:
    def issue(
        type_id: str = "postcode", account_id: str | None = None, **claims: Any
    ) -> list[WalletCredential]:
        rows = issue_to_wallet(
            session,
            runtime.keyring,
            runtime.subject_keys,
            AttestationConfig(TEST_ISSUER),
            account_id=account_id or resident.account_id,
            type_id=type_id,
            claims={**INPUTS[type_id], **claims},
            actor="operator:cli",
        )
        session.commit()
        return rows

    return issue
