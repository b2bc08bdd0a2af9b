"""A poll's result names its verification session, so the audit entry of a poll presentation
must not: otherwise a steward could join the vote to the resident whose consent (with their
reference) the built-in wallet records in the same transaction."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from identity.accounts.models import Account
from service.runtime import Runtime
from tests.functional.wallet.conftest import IssueToWallet
from tests.functional.wallet.test_approve_page import open_link, pair, post, start
from tests.functional.wallet.test_poll_pseudonyms import QUERY, batch
from tests.support.oidc import Resident, make_resident, make_rp
from tests.support.steward import API, STEWARD_EMAIL, grant
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


def steward_reads_whole_log(client: TestClient) -> list[dict[str, Any]]:
    """Every entry, oldest first, paged through the steward API as a steward reads it."""
    entries: list[dict[str, Any]] = []
    after = -1
    while after is not None:
        page = client.get(f"{API}/audit/entries", params={"after": after, "limit": 500})
        assert page.status_code == 200, page.text
        entries += [row["entry"] for row in page.json()["entries"]]
        after = page.json()["next_after"]
    return entries


def test_a_steward_reading_the_whole_log_cannot_tie_a_poll_answer_to_an_account(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    resident: Resident,
    to_wallet: IssueToWallet,
) -> None:
    rp = make_rp(session, name="Buurtplatform Oost")
    to_wallet("postcode")
    ref = runtime.subject_keys.reference(session, resident.account_id)
    handle = session.get(Account, resident.account_id).handle  # type: ignore[union-attr]
    polls = []
    for poll_id, decision in (("buurtbudget-2027", "allow"), ("speeltuin-2027", "deny")):
        created = start(client, rp, poll_id=poll_id)
        page = open_link(client, created)
        pair(client, rp, created, page)
        assert post(client, page, "decision", decision=decision).status_code == 200
        polls.append(created["session_id"])
    steward = make_resident(runtime, session, client, email=STEWARD_EMAIL, name="Sam Steward")
    grant(runtime, session, steward.account_id)

    log = steward_reads_whole_log(client)
    resident_entries = [e for e in log if e.get("subject") == ref]
    assert resident_entries  # the resident's other doings are in the log, under their reference
    resident_keys = set().union(*(join_keys(e) for e in resident_entries))
    for session_id in polls:
        begin = next(i for i, e in enumerate(log) if session_id in join_keys(e))
        end = next(
            i
            for i, e in enumerate(log)
            if i > begin and e["event"] in ("verifier.presented", "verifier.session_cancelled")
        )
        window = log[begin : end + 1]
        # the resident's answer is in the window, so what follows checks it
        assert {e["event"] for e in window} & {"consent.given", "consent.refused"}
        for entry in window:  # what the poll's answer wrote names nobody and joins nothing
            assert entry.get("subject") != ref, entry
            assert not join_keys(entry) & resident_keys, entry
            assert resident.account_id not in json.dumps(entry) and handle not in json.dumps(entry)


def join_keys(entry: dict[str, Any]) -> set[str]:
    """The values of an entry a reader could join on: references and ids (long strings)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= 16:
            found.add(value)

    walk(entry.get("details", {}))
    if entry.get("subject"):
        found.add(entry["subject"])
    return found
