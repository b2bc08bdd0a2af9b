"""A poll's result names its verification session, so the audit entry of a poll presentation
must not: otherwise a steward could join the vote to the resident whose consent (with their
reference) the built-in wallet records in the same transaction."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent.models import AuditEntry
from service.runtime import Runtime
from tests.functional.wallet.test_poll_pseudonyms import QUERY, batch
from tests.support.oidc import Resident, make_rp
from tests.support.wallet import Wallet


def presented(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "verifier.presented").order_by(AuditEntry.idx)
    )
    return [json.loads(row.entry)["details"] for row in rows]


def test_a_poll_presentation_is_audited_without_its_session_id(
    client: TestClient, runtime: Runtime, session: Session, resident: Resident
) -> None:
    rp = make_rp(session)
    [credential] = batch(client, runtime, session, resident.account_id, 1)
    ids = []
    for poll_id in ("buurtbudget-2027", None):
        body: dict[str, Any] = {"dcql_query": QUERY, "purpose": "Stemmen"}
        if poll_id is not None:
            body["poll_id"] = poll_id
        created = client.post("/verifier/sessions", json=body, auth=rp.basic()).json()
        answer = Wallet(client, credentials=[credential]).present(created["qr_payload"])
        assert answer.status_code == 200, answer.text
        ids.append(created["session_id"])

    poll, plain = presented(session)
    assert "session" not in poll and ids[0] not in json.dumps(poll)
    assert poll["client"] == rp.client_id
    assert plain["session"] == ids[1]  # other presentations keep it


def test_opening_a_poll_in_the_built_in_wallet_is_audited_without_its_session_id(
    client: TestClient, session: Session, resident: Resident
) -> None:
    rp = make_rp(session)
    ids = []
    for poll_id in ("buurtbudget-2027", None):
        body: dict[str, Any] = {"dcql_query": QUERY, "purpose": "Stemmen"}
        if poll_id is not None:
            body["poll_id"] = poll_id
        created = client.post("/verifier/sessions", json=body, auth=rp.basic()).json()
        opened = client.get(created["universal_link"], follow_redirects=False)
        assert opened.status_code in (302, 303), opened.text
        ids.append(created["session_id"])

    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.event == "wallet.session_opened")
        .order_by(AuditEntry.idx)
    )
    poll, plain = (json.loads(row.entry)["details"] for row in rows)
    assert ids[0] not in json.dumps(poll) and poll == {"poll": True}
    assert plain["session"] == ids[1]
