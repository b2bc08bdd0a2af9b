"""Fixtures of the steward tests: a resident who consented at one platform (which has an
events endpoint) and a logged-in steward."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from service.runtime import Runtime
from tests.support.oidc import Resident, code_flow, make_resident, make_rp
from tests.support.steward import RESIDENT_EMAIL, STEWARD_EMAIL, grant


@pytest.fixture
def resident_with_consent(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    rp = make_rp(session, events_uri="https://buurt.example.nl/events")
    resident = make_resident(runtime, session, client, email=RESIDENT_EMAIL, name="Jan Smit")
    code_flow(client, rp, allow=["email", "name"])
    client.cookies.clear()
    return resident


@pytest.fixture
def steward(client: TestClient, runtime: Runtime, session: Session) -> Resident:
    found = make_resident(runtime, session, client, email=STEWARD_EMAIL, name="Sam Steward")
    grant(runtime, session, found.account_id)
    return found
