"""`kluis keys …`: list, rotate and prune signing keys."""

from __future__ import annotations

import datetime as dt
import json
from typing import Protocol

import click

from core import Database
from keys.routes import JWKS_MAX_AGE_SECONDS
from keys.signing import SUPPORTED_ALGS, Keyring


class KeysRuntime(Protocol):
    @property
    def db(self) -> Database: ...
    @property
    def keyring(self) -> Keyring: ...


@click.group("keys")
def keys_cli() -> None:
    """Signing keys: list states, rotate, prune removed keys."""


@keys_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def list_keys(runtime: KeysRuntime, as_json: bool) -> None:
    """Show every signing key with its lifecycle state."""
    with runtime.db.transaction() as session:
        statuses = runtime.keyring.statuses(session)
    rows = [
        {
            "kid": s.kid,
            "alg": s.alg,
            "state": s.state.value,
            "activates_at": s.activates_at.isoformat(),
            "retired_at": s.retired_at.isoformat() if s.retired_at else None,
            "removes_at": s.removes_at.isoformat() if s.removes_at else None,
        }
        for s in statuses
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(
            f"{row['kid']:<28} {row['alg']:<6} {row['state']:<10} from {row['activates_at']}"
        )


@keys_cli.command("rotate")
@click.option("--alg", type=click.Choice(SUPPORTED_ALGS), default="RS256", show_default=True)
@click.option(
    "--publish-delay",
    type=int,
    default=2 * JWKS_MAX_AGE_SECONDS,
    show_default=True,
    help="Seconds the new key is published before it signs (must exceed JWKS caching).",
)
@click.pass_obj
def rotate(runtime: KeysRuntime, alg: str, publish_delay: int) -> None:
    """Publish a new signing key; it becomes active after the publish delay."""
    if publish_delay < 0:
        raise click.BadParameter("must be zero or more", param_hint="--publish-delay")
    with runtime.db.transaction() as session:
        row = runtime.keyring.rotate(session, alg, dt.timedelta(seconds=publish_delay))
        runtime.keyring.prune(session)
    click.echo(f"published {row.kid} ({alg}); it signs from {row.activates_at.isoformat()}")


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
