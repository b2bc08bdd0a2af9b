"""`kluis backup PATH` and `kluis restore PATH` (service/backup.py, service/restore.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import click

from rights import JournalError, TombstoneJournal, merged
from service.backup import BackupError, backup, require_file
from service.restore import restore
from service.settings import Settings


class BackupRuntime(Protocol):
    @property
    def settings(self) -> Settings: ...
    @property
    def tombstones(self) -> TombstoneJournal: ...


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def backup_cli(runtime: BackupRuntime, path: Path, as_json: bool) -> None:
    """Write a consistent backup of the database to PATH (a new file), also while the
    service runs: SQLite's backup API, or pg_dump's custom format on PostgreSQL."""
    try:
        made = backup(runtime.settings.database_url, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(made.to_json()))
        return
    click.echo(f"backup written: {made.path} ({made.format}, {made.size} bytes)")
    click.echo(f"sha256 {made.sha256}")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--journal",
    "journals",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tombstone journal(s) to re-apply (default: KLUIS_TOMBSTONE_JOURNAL).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def restore_cli(
    runtime: BackupRuntime, path: Path, journals: tuple[Path, ...], yes: bool, as_json: bool
) -> None:
    """Replace the database by the backup at PATH, then re-apply every erasure recorded in the
    tombstone journal that the backup predates. Stop every app process first."""
    settings = runtime.settings
    sources = [TombstoneJournal(p) for p in journals] or [runtime.tombstones]
    try:
        tombstones = merged([journal.read() for journal in sources])
        missing = [str(j.path) for j in sources if journals and not j.path.exists()]
        if missing:
            raise JournalError(f"no tombstone journal at {', '.join(missing)}")
        require_file(path)  # before asking: a mistyped path needs no confirmation
        if not yes:
            click.confirm(
                f"Replace the database by {path}? Everything written since that backup is "
                "lost (erasures are re-applied). Every app process must be stopped",
                abort=True,
            )
        result = restore(settings, path, tombstones)
    except (BackupError, JournalError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.to_json()))
        return
    _echo_result(result.to_json())


def _echo_result(result: dict[str, Any]) -> None:
    made = result["backup"]
    click.echo(f"restored {made['path']} ({made['format']}, sha256 {made['sha256']})")
    click.echo(
        f"tombstone journal: {result['journal_entries']} erasures, "
        f"{result['already_in_backup']} already in the backup"
    )
    click.echo(
        f"re-applied: {result['reapplied_accounts']} account erasures, "
        f"{result['reapplied_fields']} field erasures; "
        f"{result['deliveries']} platform notices queued again"
    )
    for item in result["reapplied"]:
        what = item["field"] or "account"
        where = "" if item["account_in_backup"] else " (account created after the backup)"
        click.echo(f"  {item['request_id']}  {what}{where}")
    audit = result["audit"]
    click.echo(
        f"audit log: {audit['restored_tree_size']} entries restored, now {audit['tree_size']} "
        "with the restore's entries; checkpoint signed"
    )
