"""`kluis accounts …`: desk registration and an overview without personal data."""

from __future__ import annotations

import json
from typing import Protocol

import click

from core.db import Database
from core.i18n import translate
from identity.accounts import messages  # noqa: F401 (registers the texts)
from identity.accounts.desk import create_desk_account
from identity.accounts.errors import AccountError
from identity.accounts.service import Accounts, list_accounts

OPERATOR = "operator:cli"


class AccountsRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def accounts(self) -> Accounts: ...


def _error_text(exc: AccountError) -> str:
    text = str(exc)
    return translate("en", text) if text.startswith("accounts.") else text


@click.group("accounts")
def accounts_cli() -> None:
    """Resident accounts: create at the desk, list."""


@accounts_cli.command("add")
@click.option("--email", default=None, help="The resident's e-mail address (counts as verified).")
@click.option(
    "--password",
    default=None,
    help="Initial password. Without it the resident gets an activation code instead.",
)
@click.option("--name", default=None, help="Name; required without --email.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def add(
    runtime: AccountsRuntime,
    email: str | None,
    password: str | None,
    name: str | None,
    as_json: bool,
) -> None:
    """Create an account for a resident at the desk.

    Without --password the account waits for activation: hand the printed activation code to
    the resident, who chooses a password at /activate within 14 days.
    """
    if email is None and not name:
        raise click.UsageError("--name is required for an account without --email")
    try:
        with runtime.db.transaction() as session:
            created = create_desk_account(
                runtime.accounts,
                session,
                email=email,
                password=password,
                name=name,
                actor=OPERATOR,
            )
    except AccountError as exc:
        raise click.ClickException(_error_text(exc)) from exc
    result: dict[str, object] = {
        "account_id": created.account_id,
        "username": created.handle,
        "status": created.status,
        "email_verified": created.email_verified,
    }
    if created.activation_code is not None and created.activation_expires_at is not None:
        result["activation_code"] = created.activation_code
        result["activation_expires_at"] = created.activation_expires_at.isoformat()
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"created account {created.account_id} ({created.status})")
    click.echo(f"username: {created.handle}")
    if created.activation_code:
        click.echo(f"activation code (shown once): {created.activation_code}")
        click.echo(f"valid until: {result['activation_expires_at']}")


@accounts_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def list_(runtime: AccountsRuntime, as_json: bool) -> None:
    """List accounts: id, status and creation time only (no personal data)."""
    with runtime.db.transaction() as session:
        rows = [
            {
                "account_id": account.id,
                "status": account.status,
                "created_at": account.created_at.isoformat(),
            }
            for account in list_accounts(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['account_id']}  {row['status']:<18}  {row['created_at']}")
