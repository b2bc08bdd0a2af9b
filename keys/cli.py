"""`kluis keys …`: list and prune signing keys. `kluis keys rotate` is audited, so it lives
above the audit log (identity.oidc.signing_keys) and joins this group in the service's CLI."""

from __future__ import annotations

import json
from typing import Protocol

import click

from core import Database
from keys.signing import Keyring


class KeysRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def keyring(self) -> Keyring: ...


@click.group("keys")
def keys_cli() -> None:
    """Signing keys: list states, rotate (audited), prune removed keys."""


@keys_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def list_keys(runtime: KeysRuntime, as_json: bool) -> None:
    """Show every signing key with its lifecycle state."""
    with runtime.db.transaction() as session:
        statuses = runtime.keyring.statuses(session)
    rows = [s.as_dict() for s in statuses]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['kid']:<28} {row['alg']:<6} {row['state']:<10} from {row['activates_at']}"
        )


@keys_cli.command("prune")
@click.pass_obj
def prune(runtime: KeysRuntime) -> None:
    """Destroy the private half of keys past their retention."""
    with runtime.db.transaction() as session:
        removed = runtime.keyring.prune(session)
    click.echo(f"pruned {len(removed)} key(s)" + (": " + ", ".join(removed) if removed else ""))


@keys_cli.command("init")
@click.pass_obj
def init(runtime: KeysRuntime) -> None:
    """Create an active key for each algorithm that has none (first start)."""
    with runtime.db.transaction() as session:
        created = runtime.keyring.ensure_keys(session)
    click.echo(f"created {', '.join(created)}" if created else "signing keys already present")
