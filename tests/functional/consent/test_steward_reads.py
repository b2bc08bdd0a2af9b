"""The steward area, what stewards read: filtered audit entries, proofs against signed
checkpoints, the JSON Lines export and the erasure and consent overviews; every read is
audited and nothing holds personal data. And the CLI that grants the role."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from audit.checkpoint import open_checkpoint
from audit.models import AuditEntry
from audit.proofs import verify_consistency, verify_inclusion
from identity.accounts.cli import accounts_cli
from identity.accounts.models import AccountRole
from identity.accounts.roles import STEWARD
from rights.erasure import execute_erasure
from service.runtime import Runtime
from tests.support.oidc import Resident, make_resident
from tests.support.steward import (
    API,
    RESIDENT_EMAIL,
    steward_reads,
)

# --- what stewards read ----------------------------------------------------------------------


def test_entries_filter_by_event_subject_and_time_and_each_read_is_audited(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    resident_with_consent: Resident,
    steward: Resident,
) -> None:
    ref = runtime.subject_keys.reference(session, resident_with_consent.account_id)
    given = client.get(f"{API}/audit/entries", params={"event": "consent.given"}).json()
    assert given["entries"] and all(
        e["entry"]["event"] == "consent.given" for e in given["entries"]
    )
    mine = client.get(f"{API}/audit/entries", params={"subject": ref}).json()["entries"]
    assert mine and all(e["entry"]["subject"] == ref for e in mine)
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert client.get(f"{API}/audit/entries", params={"since": future}).json()["entries"] == []
    past = client.get(f"{API}/audit/entries", params={"until": future, "limit": 2}).json()
    assert len(past["entries"]) == 2 and past["next_after"] == past["entries"][-1]["index"]
    page2 = client.get(f"{API}/audit/entries", params={"after": past["next_after"]}).json()
    assert page2["entries"][0]["index"] == past["next_after"] + 1
    found = steward_reads(session)
    assert len(found) == 5
    assert found[1]["details"]["filters"] == ["subject"]  # type: ignore[index]
    steward_ref = runtime.subject_keys.reference(session, steward.account_id)
    assert {r["actor"] for r in found} == {f"steward:{steward_ref}"}
    assert all(r["subject"] is None for r in found)  # filter values are not copied


def test_entries_reject_malformed_filters(client: TestClient, steward: Resident) -> None:
    assert client.get(f"{API}/audit/entries", params={"subject": "x" * 64}).status_code == 422
    assert client.get(f"{API}/audit/entries", params={"event": "DROP TABLE"}).status_code == 422
    naive = client.get(f"{API}/audit/entries", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422


def test_inclusion_and_consistency_proofs_verify_against_a_signed_checkpoint(
    client: TestClient, runtime: Runtime, session: Session, steward: Resident
) -> None:
    first = runtime.audit.checkpoint(session)
    session.commit()
    old = client.get(f"{API}/audit/checkpoints/latest").json()
    runtime.audit.checkpoint(session)
    session.commit()
    latest = client.get(f"{API}/audit/checkpoints/latest").json()
    assert latest["tree_size"] > old["tree_size"] == first.tree_size
    cp = open_checkpoint(latest["note"], [runtime.audit.verifier], origin=runtime.audit.origin)
    size = cp.size

    proof = client.get(
        f"{API}/audit/proofs/inclusion", params={"index": 0, "tree_size": size}
    ).json()
    entry = session.get(AuditEntry, 0)
    assert entry is not None
    verify_inclusion(
        0, size, entry.leaf_hash, [base64.b64decode(p) for p in proof["proof"]], cp.root_hash
    )
    consistency = client.get(
        f"{API}/audit/proofs/consistency", params={"old_size": old["tree_size"], "tree_size": size}
    ).json()
    old_cp = open_checkpoint(old["note"], [runtime.audit.verifier], origin=runtime.audit.origin)
    verify_consistency(
        old_cp.size,
        size,
        old_cp.root_hash,
        cp.root_hash,
        [base64.b64decode(p) for p in consistency["proof"]],
    )
    listed = client.get(f"{API}/audit/checkpoints").json()["checkpoints"]
    assert [c["tree_size"] for c in listed] == sorted(c["tree_size"] for c in listed)
    assert len(listed) == 2


def test_proofs_for_entries_beyond_the_tree_are_404(client: TestClient, steward: Resident) -> None:
    assert client.get(f"{API}/audit/proofs/inclusion", params={"index": 10**6}).status_code == 404
    assert (
        client.get(f"{API}/audit/proofs/consistency", params={"old_size": 10**6}).status_code == 404
    )
    assert client.get(f"{API}/audit/checkpoints/latest").status_code == 404


def test_export_is_json_lines_of_every_entry(
    client: TestClient, session: Session, steward: Resident
) -> None:
    response = client.get(f"{API}/audit/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["index"] for line in lines] == list(range(len(lines)))
    assert lines[-1]["entry"]["event"] == "steward.read"  # the export itself is audited first


def test_erasure_overview_shows_every_request_with_platform_state_and_overdue(
    client: TestClient,
    runtime: Runtime,
    session: Session,
    resident_with_consent: Resident,
    steward: Resident,
) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    request = execute_erasure(
        session,
        runtime.oidc,
        account_id=resident_with_consent.account_id,
        requested_by="operator",
        actor="operator:cli",
        now=long_ago,
    )
    session.commit()
    data = client.get(f"{API}/erasure").json()["requests"]
    (line,) = data
    assert line["id"] == request.id and line["overdue"] is True and line["field"] is None
    page = client.get("/steward/erasure")
    assert page.status_code == 200 and 'data-overdue="true"' in page.text
    assert request.id in page.text
    assert [p["kind"] for p in line["platforms"]] == ["security_event"]
    assert line["platforms"][0]["acknowledged_at"] is None
    for text in (page.text, json.dumps(data)):
        assert RESIDENT_EMAIL not in text and "Jan Smit" not in text


def test_consent_overview_counts_per_platform_claim_and_state(
    client: TestClient, session: Session, resident_with_consent: Resident, steward: Resident
) -> None:
    counts = client.get(f"{API}/consents").json()["counts"]
    states = {(c["claim"], c["state"]): c["count"] for c in counts}
    assert states[("email", "given")] == 1 and states[("name", "given")] == 1
    page = client.get("/steward/consents")
    assert page.status_code == 200 and 'data-claim="email"' in page.text
    assert RESIDENT_EMAIL not in page.text and "Jan Smit" not in page.text
    # the platform by its name and the field by its label, as the resident saw them
    cells = re.findall(
        r'data-claim="email" data-state="given">\s*<td[^>]*>([^<]*)</td><td[^>]*>([^<]*)<',
        page.text,
    )
    (platform_cell, field_cell), *_ = cells
    assert platform_cell == "Buurtplatform"  # make_rp's name, not its kc_… id
    assert field_cell == "Je e-mailadres (en of het bevestigd is)"


def test_audit_page_filters_and_audits(
    client: TestClient, session: Session, resident_with_consent: Resident, steward: Resident
) -> None:
    page = client.get("/steward/audit", params={"event": "consent.given"})
    assert page.status_code == 200 and 'data-event="consent.given"' in page.text
    assert 'data-event="account.created"' not in page.text
    assert steward_reads(session)[-1]["details"]["filters"] == ["event"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("nl", "Vul een datum en tijd in UTC in, bijvoorbeeld 2026-11-30T08:00."),
        ("en", "Enter a date and time in UTC, for example 2026-11-30T08:00."),
    ],
)
def test_audit_page_with_a_malformed_time_shows_the_form_again_with_the_other_filters_kept(
    client: TestClient,
    session: Session,
    resident_with_consent: Resident,
    steward: Resident,
    lang: str,
    message: str,
) -> None:
    reads = len(steward_reads(session))
    page = client.get(
        "/steward/audit",
        params={"event": "consent.given", "since": "yesterday", "until": "2099-01-01T00:00"},
        headers={"Accept-Language": lang},
    )
    assert page.status_code == 400 and f'<html lang="{lang}">' in page.text
    assert f'<p id="since-error" class="error">{message}</p>' in page.text
    since = re.search(r"<input id=\"since\"[^>]*>", page.text)
    assert since and 'aria-invalid="true"' in since[0] and "since-error" in since[0]
    assert 'href="#since"' in page.text  # the error summary leads to the field
    assert 'value="consent.given"' in page.text and 'value="2099-01-01T00:00"' in page.text
    assert "until-error" not in page.text and "event-error" not in page.text
    assert "data-event=" not in page.text  # nothing was read, so nothing audited
    assert len(steward_reads(session)) == reads


@pytest.mark.parametrize(
    ("name", "value"), [("since", "0001-01-01T00:00+01:00"), ("until", "9999-12-31T23:59-01:00")]
)
def test_audit_page_refuses_a_time_beyond_what_utc_holds_like_a_malformed_one(
    client: TestClient, steward: Resident, name: str, value: str
) -> None:
    page = client.get("/steward/audit", params={name: value})
    assert page.status_code == 400 and f'<p id="{name}-error" class="error">' in page.text
    api = client.get(f"{API}/audit/entries", params={name: value})
    assert api.status_code in (400, 422), api.text


def test_audit_page_names_each_malformed_filter_without_repeating_it_in_the_message(
    client: TestClient, steward: Resident
) -> None:
    page = client.get("/steward/audit", params={"event": "DROP TABLE", "subject": "x" * 64})
    assert page.status_code == 400
    errors = re.findall(r'<p id="(\w+)-error" class="error">([^<]*)</p>', page.text)
    assert [name for name, _ in errors] == ["event", "subject"]
    assert all("DROP" not in text and "xxx" not in text for _, text in errors)


def test_audit_filters_say_what_they_expect(client: TestClient, steward: Resident) -> None:
    page = client.get("/steward/audit").text
    for name in ("event", "subject"):
        field = re.search(rf'<input id="{name}"[^>]*>', page)
        assert field and "pattern=" in field[0] and f'aria-describedby="{name}-hint"' in field[0]
        hint = re.search(rf'<p id="{name}-hint" class="hint muted">([^<]*)</p>', page)
        assert hint and f'title="{hint[1]}"' in field[0]


STEWARD_PAGES = {  # each page and its name in Dutch and English
    "/steward/erasure": ("Verwijderverzoeken", "Erasure requests"),
    "/steward/consents": ("Toestemmingen", "Consents"),
    "/steward/audit": ("Auditlogboek", "Audit log"),
    "/steward/vouching": ("Meldingen nepprofiel", "Fake-profile reports"),
    "/steward/vouching/graph": ("Bevestigingen: waarschuwingen", "Confirmations: warning signs"),
}


@pytest.mark.parametrize("path", STEWARD_PAGES)
def test_each_steward_page_has_its_own_title_and_marks_its_menu_item(
    client: TestClient, steward: Resident, path: str
) -> None:
    dutch, english = STEWARD_PAGES[path]
    for lang, name, area in (("nl", dutch, "Gegevensbeheer"), ("en", english, "Data stewardship")):
        page = client.get(path, headers={"Accept-Language": lang}).text
        assert f"<title>{name} · {area} · Kluis</title>" in page
        current = re.findall(r'<a href="([^"]*)" aria-current="page">', page)
        assert current == [path]


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_grants_and_revokes_the_role_by_email(runtime: Runtime, session: Session) -> None:
    someone = make_resident(runtime, session, email="a@example.org")
    runner = CliRunner()
    result = runner.invoke(
        accounts_cli, ["steward", "grant", "--email", "A@example.org"], obj=runtime
    )
    assert result.exit_code == 0, result.output
    assert session.get(AccountRole, (someone.account_id, STEWARD)) is not None
    listed = runner.invoke(accounts_cli, ["steward", "list"], obj=runtime)
    assert someone.account_id in listed.output
    result = runner.invoke(
        accounts_cli, ["steward", "revoke", "--account", someone.account_id], obj=runtime
    )
    assert result.exit_code == 0 and "no longer" in result.output
    session.expire_all()
    assert session.get(AccountRole, (someone.account_id, STEWARD)) is None
    unknown = runner.invoke(
        accounts_cli, ["steward", "grant", "--email", "x@example.org"], obj=runtime
    )
    assert unknown.exit_code != 0 and "no such account" in unknown.output
