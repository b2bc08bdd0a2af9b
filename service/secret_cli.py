"""`kluis secret status|rotate`: rotate the key-encryption secret.

Lives in the composition root because it joins the keys package (re-wrapping) with the audit
log (one entry per batch, in the batch's transaction) and knows the settings' names.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any, Protocol

import click
from sqlalchemy.orm import Session

from audit import record
from core import Database
from keys import (
    CURRENT,
    DEFAULT_BATCH_SIZE,
    ROOT,
    UNKNOWN,
    Batch,
    Keyring,
    SubjectKeys,
    UnwrappableKeys,
    WrappedTable,
    rotate_key_encryption,
    usage,
)
from service.settings import Settings

OPERATOR = "operator:cli"
CURRENT_ENV = "KLUIS_KEY_ENCRYPTION_SECRET"
PREVIOUS_ENV = "KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS"
ROOT_ENV = "KLUIS_SECRET_KEY"


class SecretRuntime(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def keyring(self) -> Keyring: ...
    @property
    def subject_keys(self) -> SubjectKeys: ...


def wrapped_tables(runtime: SecretRuntime) -> list[WrappedTable]:
    return [runtime.keyring.wrapped, runtime.subject_keys.wrapped]


def _describe(name: str, separate: bool) -> str:
    """Which setting a secret name stands for, in operators' words."""
    if name == CURRENT:
        return CURRENT_ENV if separate else f"{ROOT_ENV} (no {CURRENT_ENV} set)"
    if name == ROOT:
        return ROOT_ENV
    if name == UNKNOWN:
        return "a secret that is not configured"
    index = name.removeprefix("previous-")
    return f"{PREVIOUS_ENV}, entry {index}"


def _report(runtime: SecretRuntime) -> dict[str, Any]:
    tables = wrapped_tables(runtime)
    with runtime.db.transaction() as session:
        counts = {table.label: usage(session, table) for table in tables}
    total: Counter[str] = Counter()
    for each in counts.values():
        total.update(each)
    under_root = total[ROOT]
    pending = sum(n for name, n in total.items() if name not in (CURRENT, UNKNOWN))
    previous = runtime.settings.previous_key_encryption_bytes
    return {
        "key_encryption_secret": CURRENT_ENV if runtime.settings.key_encryption_secret else None,
        "previous_secrets_configured": len(previous),
        "current_fingerprints": {t.label: t.wrap.current.fingerprint for t in tables},
        "keys": {label: dict(sorted(each.items())) for label, each in counts.items()},
        "pending": pending,
        "under_root": under_root,
        "under_previous": pending - under_root,
        "unknown": total[UNKNOWN],
        "previous_secrets_removable": pending == 0 and total[UNKNOWN] == 0,
    }


def _verdict(report: dict[str, Any]) -> str:
    if report["unknown"]:
        return (
            f"{report['unknown']} key(s) are wrapped under a secret that is not configured: "
            f"`kluis serve` refuses to start until it is listed in {PREVIOUS_ENV}."
        )
    if report["under_previous"]:
        return (
            f"{report['pending']} key(s) still depend on a previous secret: run "
            f"`kluis secret rotate`, and keep {PREVIOUS_ENV} until it reports none."
        )
    if report["under_root"]:
        return (
            f"{report['under_root']} key(s) are still wrapped under {ROOT_ENV}: run "
            "`kluis secret rotate`."
        )
    if report["previous_secrets_configured"]:
        return (
            "Nothing depends on a previous key-encryption secret any more: remove "
            f"{PREVIOUS_ENV} and restart every process."
        )
    return "Nothing depends on a previous key-encryption secret."


@click.group("secret")
def secret_cli() -> None:
    """The key-encryption secret: see what depends on which secret, rotate to a new one."""


@secret_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def status(runtime: SecretRuntime, as_json: bool) -> None:
    """Count the stored keys under each configured key-encryption secret."""
    report = _report(runtime)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        separate = report["key_encryption_secret"] is not None
        click.echo(f"key-encryption secret: {_describe(CURRENT, separate)}")
        for label, each in report["keys"].items():
            parts = [f"{n} under {_describe(name, separate)}" for name, n in each.items()]
            click.echo(f"{label}: {', '.join(parts) if parts else 'none'}")
        click.echo(_verdict(report))
    if report["unknown"]:
        raise SystemExit(1)


@secret_cli.command("rotate")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=10_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Keys re-wrapped per transaction.",
)
@click.option(
    "--pause",
    type=click.FloatRange(min=0, max=60),
    default=0.0,
    show_default=True,
    help="Seconds to wait between batches, to spare a busy database.",
)
@click.pass_obj
def rotate(runtime: SecretRuntime, batch_size: int, pause: float) -> None:
    """Re-wrap every stored key not yet under the current key-encryption secret.

    Set the new secret as KLUIS_KEY_ENCRYPTION_SECRET and the old one in
    KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS, restart every process, then run this. It can be
    interrupted and run again at any time; it continues where it stopped.
    """
    so_far: Counter[str] = Counter()

    def audit(session: Session, batch: Batch) -> None:
        details = {"keys": batch.table, "count": batch.rewrapped, "kek": batch.kek}
        record(session, "key_encryption.rewrapped", OPERATOR, None, details)

    def progress(batch: Batch) -> None:
        so_far[batch.table] += batch.rewrapped
        click.echo(f"{batch.table}: re-wrapped {batch.rewrapped} ({so_far[batch.table]} so far)")
        if pause:
            time.sleep(pause)

    try:
        totals = rotate_key_encryption(
            runtime.db,
            wrapped_tables(runtime),
            batch_size,
            in_transaction=audit,
            after_commit=progress,
        )
    except UnwrappableKeys as exc:
        raise click.ClickException(f"{exc} ({PREVIOUS_ENV}); nothing was re-wrapped") from exc
    summary = " and ".join(f"{n} {label}" for label, n in totals.items())
    click.echo(f"re-wrapped {summary} under the current key-encryption secret")
    click.echo(_verdict(_report(runtime)))
