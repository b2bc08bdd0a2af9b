"""Desk accounts: `kluis accounts add|list` and activation by the resident at /activate."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from core.db import Database
from identity.accounts.cli import accounts_cli
from identity.accounts.models import AccountStatus
from identity.accounts.service import Accounts, get_account
from service import cli as service_cli
from service.settings import Settings
from tests.conftest import TEST_SECRET
from tests.support.accounts import (
    STRONG_PASSWORD,
    install_fast_accounts,
    link_in,
    log_in,
    outbox,
    post_form,
    relative,
)

EMAIL = "henk@example.org"
NAME = "Henk de Vries"


@pytest.fixture
def accounts(app: FastAPI) -> Accounts:
    return install_fast_accounts(app)


@pytest.fixture
def operator(db: Database, accounts: Accounts) -> SimpleNamespace:
    return SimpleNamespace(db=db, accounts=accounts)


def add(operator: SimpleNamespace, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(accounts_cli, ["add", *args, "--json"], obj=operator)
    assert result.exit_code == 0, result.output
    created: dict[str, object] = json.loads(result.output)
    return created


def activate(client: TestClient, **fields: str) -> Response:
    return post_form(client, "/activate", fields)


def test_desk_account_with_email_and_password_is_verified_and_can_log_in(
    operator: SimpleNamespace, client: TestClient, session: Session
) -> None:
    created = add(operator, "--email", EMAIL, "--password", STRONG_PASSWORD, "--name", NAME)
    assert created["email_verified"] is True and created["status"] == "active"
    assert re.fullmatch(r"[0-9a-f]{32}", str(created["account_id"]))
    assert "activation_code" not in created
    assert log_in(client, EMAIL).status_code == 303
    entry = session.scalar(select(AuditEntry).where(AuditEntry.event == "account.registered"))
    assert entry is not None and entry.actor == "operator:cli"
    assert EMAIL not in entry.entry and "Henk" not in entry.entry


def test_desk_account_without_email_needs_a_name(operator: SimpleNamespace) -> None:
    result = CliRunner().invoke(accounts_cli, ["add", "--json"], obj=operator)
    assert result.exit_code != 0 and "--name is required" in result.output


def test_duplicate_address_and_weak_password_are_refused_at_the_desk(
    operator: SimpleNamespace,
) -> None:
    add(operator, "--email", EMAIL, "--password", STRONG_PASSWORD)
    again = CliRunner().invoke(
        accounts_cli,
        ["add", "--email", EMAIL.upper(), "--password", STRONG_PASSWORD],
        obj=operator,
    )
    assert again.exit_code == 1 and "already exists" in again.output
    weak = CliRunner().invoke(
        accounts_cli, ["add", "--email", "b@example.org", "--password", "kort"], obj=operator
    )
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output


def test_activation_code_lets_a_resident_without_email_choose_a_password_once(
    operator: SimpleNamespace, client: TestClient, session: Session
) -> None:
    created = add(operator, "--name", NAME)
    assert created["status"] == "pending_activation" and created["email_verified"] is False
    code = str(created["activation_code"])
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){2}", code)
    account = get_account(session, str(created["account_id"]))
    assert account is not None and account.status == AccountStatus.PENDING_ACTIVATION
    assert account.password_hash is None
    # no password yet: login fails like any other
    assert log_in(client, account.handle, STRONG_PASSWORD).status_code == 400

    done = activate(client, code=code.lower().replace("-", " "), password=STRONG_PASSWORD)
    assert done.status_code == 200
    assert account.handle in done.text
    session.refresh(account)
    assert account.status == AccountStatus.ACTIVE
    assert log_in(client, account.handle, STRONG_PASSWORD).status_code == 303

    again = activate(client, code=code, password="nog een wachtwoord!")
    assert again.status_code == 400
    assert 'id="code-error"' in again.text


def test_activation_with_a_new_address_asks_to_confirm_it(
    operator: SimpleNamespace, client: TestClient, settings: Settings
) -> None:
    code = str(add(operator, "--name", NAME)["activation_code"])
    activate(client, code=code, email="Henk.Nieuw@example.org", password=STRONG_PASSWORD)
    (mail,) = outbox(settings.mail_outbox_dir)
    assert mail["To"] == "henk.nieuw@example.org"
    client.get(relative(link_in(mail, "/verify-email")))
    assert log_in(client, "henk.nieuw@example.org").status_code == 303


def test_activation_checks_the_password_before_using_the_code(
    operator: SimpleNamespace, client: TestClient
) -> None:
    code = str(add(operator, "--name", NAME)["activation_code"])
    weak = activate(client, code=code, password="kort")
    assert weak.status_code == 400
    assert 'id="password-error"' in weak.text
    assert activate(client, code=code, password=STRONG_PASSWORD).status_code == 200
    wrong = activate(client, code="AAAA-BBBB-CCCC", password=STRONG_PASSWORD)
    assert wrong.status_code == 400


def test_desk_account_with_email_but_no_password_activates_by_code(
    operator: SimpleNamespace, client: TestClient
) -> None:
    created = add(operator, "--email", EMAIL)
    assert created["status"] == "pending_activation" and created["email_verified"] is True
    activate(client, code=str(created["activation_code"]), password=STRONG_PASSWORD)
    assert log_in(client, EMAIL).status_code == 303


def test_list_shows_ids_status_and_time_but_no_personal_data(operator: SimpleNamespace) -> None:
    first = add(operator, "--email", EMAIL, "--password", STRONG_PASSWORD, "--name", NAME)
    second = add(operator, "--name", "Fatima El Amrani")
    result = CliRunner().invoke(accounts_cli, ["list", "--json"], obj=operator)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert [(r["account_id"], r["status"]) for r in rows] == [
        (first["account_id"], "active"),
        (second["account_id"], "pending_activation"),
    ]
    assert all(set(r) == {"account_id", "status", "created_at"} for r in rows)
    assert EMAIL not in result.output and "Henk" not in result.output
    assert "Fatima" not in result.output


def test_kluis_command_has_the_accounts_group(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLUIS_DATABASE_URL", fresh_database)
    monkeypatch.setenv("KLUIS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KLUIS_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("KLUIS_OUTBOX_WORKER", "false")
    monkeypatch.setattr(service_cli, "configure_logging", lambda level: None)
    made: list[service_cli.CliRuntime] = []

    class TrackedRuntime(service_cli.CliRuntime):
        def __init__(self) -> None:
            made.append(self)

    monkeypatch.setattr(service_cli, "CliRuntime", TrackedRuntime)
    runner = CliRunner()
    try:
        added = runner.invoke(
            service_cli.cli,
            ["accounts", "add", "--email", EMAIL, "--password", STRONG_PASSWORD, "--json"],
        )
        assert added.exit_code == 0, added.output
        created = json.loads(added.output)
        assert created["email_verified"] is True
        listed = runner.invoke(service_cli.cli, ["accounts", "list", "--json"])
        assert [row["account_id"] for row in json.loads(listed.output)] == [created["account_id"]]
    finally:
        for obj in made:
            if "runtime" in obj.__dict__:  # built: close its connection pool
                obj.runtime.db.dispose()


def test_the_desk_can_type_the_password_at_a_hidden_prompt(
    operator: SimpleNamespace, client: TestClient
) -> None:
    typed = f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n"
    result = CliRunner().invoke(
        accounts_cli,
        ["add", "--email", EMAIL, "--ask-password", "--json"],
        obj=operator,
        input=typed,
    )
    assert result.exit_code == 0, result.output
    assert STRONG_PASSWORD not in result.output  # hidden: not echoed
    assert log_in(client, EMAIL).status_code == 303
    both = CliRunner().invoke(
        accounts_cli,
        ["add", "--email", "x@example.org", "--password", STRONG_PASSWORD, "--ask-password"],
        obj=operator,
    )
    assert both.exit_code == 2 and "not both" in both.output
