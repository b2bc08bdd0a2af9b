"""The operator console's erasure requests (#16): the list shows each request's status and the
platforms that must be told by hand; recording "handled another way" goes through
`record_platform_handled` (as `kluis erasure handled`), needs CSRF and a note without personal
data, is audited with the operator's reference, and completes the request. Operators only."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.outbox import Delivery
from audit.models import AuditEntry
from core import utcnow
from identity.accounts.roles import OPERATOR_ROLE, grant_role
from rights.erasure import execute_erasure
from rights.lifecycle import COMPLETED, refresh_erasure_states
from rights.models import ErasureRequest
from service.runtime import Runtime
from tests.support.oidc import code_flow, make_resident, make_rp

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ERASURE = "/console/erasure"


def erased_with_a_silent_platform(
    client: TestClient, runtime: Runtime, session: Session
) -> tuple[str, str]:
    """An executed erasure: one platform told by Kluis (delivered), one without events_uri."""
    silent = make_rp(session, name="Buurtkrant", redirect_uris=["https://krant.example.nl/cb"])
    told = make_rp(session, events_uri="https://buurt.example.nl/events")
    resident = make_resident(runtime, session, client)
    for rp in (silent, told):
        code_flow(client, rp, allow=["email", "name"])
    request = execute_erasure(
        session, runtime.oidc, account_id=resident.account_id, requested_by="resident",
        actor="resident",
    )  # fmt: skip
    for delivery in session.scalars(select(Delivery)):
        delivery.delivered_at = utcnow()
    refresh_erasure_states(session)
    session.commit()
    client.cookies.clear()
    return request.id, silent.client_id


def log_in_operator(client: TestClient, runtime: Runtime, session: Session) -> str:
    operator = make_resident(runtime, session, client, email="beheer@example.org")
    grant_role(session, runtime.subject_keys, operator.account_id, OPERATOR_ROLE, "operator:cli")
    session.commit()
    return operator.account_id


def test_only_operators_see_erasure_requests(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    request_id, silent = erased_with_a_silent_platform(client, runtime, session)
    visitor = client.get(ERASURE, follow_redirects=False)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login?")
    make_resident(runtime, session, client, email="iemand@example.org")
    for path in [ERASURE, f"{ERASURE}/{request_id}"]:
        assert client.get(path).status_code == 404
    token = _CSRF.findall(client.get("/account").text)[0]
    data = {"client_id": silent, "note": "per mail", "csrf_token": token}
    assert client.post(f"{ERASURE}/{request_id}/handled", data=data).status_code == 404


def test_an_operator_records_a_platform_told_by_hand_and_the_request_completes(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    request_id, silent = erased_with_a_silent_platform(client, runtime, session)
    operator = log_in_operator(client, runtime, session)
    listing = client.get(ERASURE)
    assert listing.status_code == 200 and listing.headers["cache-control"] == "no-store"
    assert f'data-request="{request_id}" data-status="propagating" data-waiting="1"' in listing.text
    assert "Buurtkrant" in listing.text
    page = client.get(f"{ERASURE}/{request_id}")
    assert f'id="note-{silent}"' in page.text
    path = f"{ERASURE}/{request_id}/handled"
    form = {"client_id": silent, "note": "per mail aan de beheerder, ticket 12"}
    assert client.post(path, data=form).status_code == 403
    token = _CSRF.findall(page.text)[0]
    empty = client.post(path, data={**form, "note": "", "csrf_token": token})
    assert empty.status_code == 400 and f'id="note-{silent}-error"' in empty.text
    personal = client.post(
        path, data={**form, "note": "mail aan jan@example.org", "csrf_token": token}
    )
    assert personal.status_code == 400 and "jan@example.org" not in personal.text
    done = client.post(path, data={**form, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=handled")
    session.expire_all()
    found = session.get(ErasureRequest, request_id)
    assert found is not None and found.status == COMPLETED
    [entry] = session.scalars(
        select(AuditEntry).where(AuditEntry.event == "erasure.platform_handled")
    )
    actor = f"operator:{runtime.subject_keys.reference(session, operator)}"
    details = json.loads(entry.entry)["details"]
    assert entry.actor == actor and details["client"] == silent
    after = client.get(f"{ERASURE}/{request_id}?done=handled")
    assert 'role="status"' in after.text and f'id="note-{silent}"' not in after.text
    again = client.post(path, data={**form, "csrf_token": token})
    assert again.status_code == 400
