"""The operator console's outbox health (#16): deliveries pending or failing per platform,
failing platforms first, the same lines as `kluis clients outbox`; operators only."""

from __future__ import annotations

import datetime as dt
import json
import re

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from adapters import enqueue
from adapters.outbox import Delivery
from core import utcnow
from identity.accounts.roles import OPERATOR_ROLE, grant_role
from identity.oidc.cli import clients_cli
from service.runtime import Runtime
from tests.support.oidc import make_resident, make_rp

OUTBOX = "/console/outbox"


def deliveries(session: Session) -> tuple[str, str]:
    """A platform with one delivery failing (twice) and one pending; another all delivered."""
    failing, fine = make_rp(session, "Wolk").client_id, make_rp(session, "Forum").client_id
    target = "https://wolk.example.org/events"
    tried = enqueue(session, kind="set", client_id=failing, target_uri=target, payload={})
    tried.attempts, tried.last_status, tried.last_error = 2, 503, "HTTP 503"
    tried.next_attempt_at = utcnow() + dt.timedelta(seconds=8)
    enqueue(session, kind="set", client_id=failing, target_uri=target, payload={})
    done = enqueue(session, kind="set", client_id=fine, target_uri=target, payload={})
    done.attempts, done.delivered_at = 1, utcnow()
    session.commit()
    return failing, fine


def test_the_outbox_page_shows_pending_and_failing_deliveries_per_platform(
    client: TestClient, runtime: Runtime, session: Session
) -> None:
    failing, fine = deliveries(session)
    resident = make_resident(runtime, session, client, email="beheer@example.org")
    assert client.get(OUTBOX).status_code == 404
    grant_role(session, runtime.subject_keys, resident.account_id, OPERATOR_ROLE, "operator:cli")
    session.commit()
    page = client.get(OUTBOX)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    rows = re.findall(
        r'<tr data-client="([\w-]+)" data-pending="(\d+)" data-failing="(\d+)">', page.text
    )
    assert rows == [(failing, "1", "1"), (fine, "0", "0")]
    assert "HTTP 503" in page.text and 'aria-current="page"' in page.text


def test_the_cli_says_the_same_as_the_console(runtime: Runtime, session: Session) -> None:
    failing, fine = deliveries(session)
    result = CliRunner().invoke(clients_cli, ["outbox", "--json"], obj=runtime)
    assert result.exit_code == 0, result.output
    lines = json.loads(result.output)
    assert [(x["client_id"], x["client_name"], x["pending"], x["failing"]) for x in lines] == [
        (failing, "Wolk", 1, 1),
        (fine, "Forum", 0, 0),
    ]
    assert lines[0]["last_error"] == "HTTP 503" and lines[0]["most_attempts"] == 2
    text = CliRunner().invoke(clients_cli, ["outbox"], obj=runtime).output
    assert "failing 1" in text and "last error HTTP 503" in text
    session.query(Delivery).delete()
    session.commit()
    assert CliRunner().invoke(clients_cli, ["outbox"], obj=runtime).output == "no deliveries\n"
