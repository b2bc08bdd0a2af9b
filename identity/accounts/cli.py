"""`kluis accounts …`: desk registration and an overview without personal data."""

from __future__ import annotations

import json
from typing import Protocol

import click
from sqlalchemy.orm import Session

from core import Database, translate
from identity.accounts import messages  # noqa: F401 (registers the texts)
from identity.accounts.desk import create_desk_account
from identity.accounts.errors import AccountError
from identity.accounts.roles import (
    DESK,
    OPERATOR_ROLE,
    STEWARD,
    accounts_with_role,
    grant_role,
    revoke_role,
)
from identity.accounts.service import (
    Accounts,
    find_by_email,
    get_account,
    list_accounts,
    normalize_email,
)

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
@click.option(
    "--ask-password",
    is_flag=True,
    help="Type the initial password at a hidden prompt (twice) instead of on the command "
    "line, where it would stay in the shell history.",
)
@click.option("--name", default=None, help="Name; required without --email.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def add(
    runtime: AccountsRuntime,
    email: str | None,
    password: str | None,
    ask_password: bool,
    name: str | None,
    as_json: bool,
) -> None:
    """Create an account for a resident at the desk.

    Without --password the account waits for activation: hand the printed activation code to
    the resident, who chooses a password at /activate within 14 days.
    """
    if email is None and not name:
        raise click.UsageError("--name is required for an account without --email")
    if ask_password:
        if password is not None:
            raise click.UsageError("give --password or --ask-password, not both")
        password = click.prompt(
            "Initial password", hide_input=True, confirmation_prompt="Repeat it"
        )
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


def _role_target(
    runtime: AccountsRuntime, session: Session, email: str | None, account: str | None
) -> str:
    if (email is None) == (account is None):
        raise click.UsageError("give exactly one of --email or --account")
    found = (
        find_by_email(runtime.accounts, session, normalize_email(email))
        if email is not None
        else get_account(session, account or "")
    )
    if found is None:
        raise click.ClickException("no such account")
    return found.id


def role_cli(role: str, holder: str, description: str) -> click.Group:
    """`kluis accounts <role> grant|revoke|list` for one role (granted by the operator)."""

    @click.group(role, help=description)
    def group() -> None:
        pass

    @group.command("grant", help=f"Give an account the {role} role.")
    @click.option("--email", default=None, help=f"The {holder}'s e-mail address.")
    @click.option("--account", default=None, help="The account id.")
    @click.pass_obj
    def grant(runtime: AccountsRuntime, email: str | None, account: str | None) -> None:
        with runtime.db.transaction() as session:
            account_id = _role_target(runtime, session, email, account)
            changed = grant_role(session, runtime.accounts.subject_keys, account_id, role, OPERATOR)
        click.echo(f"account {account_id} {'is now' if changed else 'already was'} a {holder}")

    @group.command(
        "revoke", help=f"Take the {role} role away (effective at once, also for access tokens)."
    )
    @click.option("--email", default=None, help=f"The {holder}'s e-mail address.")
    @click.option("--account", default=None, help="The account id.")
    @click.pass_obj
    def revoke(runtime: AccountsRuntime, email: str | None, account: str | None) -> None:
        with runtime.db.transaction() as session:
            account_id = _role_target(runtime, session, email, account)
            changed = revoke_role(
                session, runtime.accounts.subject_keys, account_id, role, OPERATOR
            )
        click.echo(f"account {account_id} {'is no longer' if changed else 'was not'} a {holder}")

    @group.command("list", help=f"Accounts with the {role} role (ids only).")
    @click.pass_obj
    def listing(runtime: AccountsRuntime) -> None:
        with runtime.db.transaction() as session:
            for row in accounts_with_role(session, role):
                click.echo(f"{row.account_id}  since {row.granted_at.isoformat()}")

    return group


accounts_cli.add_command(
    role_cli(
        STEWARD,
        "steward",
        "The data-steward role: read access to the audit log and the erasure and consent "
        "overviews at /steward (no personal data).",
    )
)
accounts_cli.add_command(
    role_cli(
        DESK,
        "desk operator",
        "The desk role: at /desk, after checking an ID document in person, issue proofs "
        "(postcode, age, real person) to residents and create accounts for people without "
        "e-mail.",
    )
)
accounts_cli.add_command(
    role_cli(
        OPERATOR_ROLE,
        "console operator",
        "The operator role: at /console, manage platforms (add with a preset, rotate the "
        "secret, remove) and watch the outbox's deliveries, as `kluis clients` does.",
    )
)
