"""Restore a backup and re-apply the erasures it predates (`kluis restore`).

The order is what makes a restore safe for residents who were erased after the backup:

1. read the tombstone journal and check the backup file: a missing, damaged or foreign file,
   or an unreadable journal, is refused before anything changes;
2. put the backup in place: SQLite into a staging file next to the database, PostgreSQL with
   `pg_restore --single-transaction` (service/backup.py);
3. migrate it to this version's schema;
4. in one transaction: re-apply every tombstone the restored database lacks
   (rights/erasure_replay.py; peer vouching forgets each erased account, so the residents its
   confirmations carried lose `real_person` now, not at the next settle), audit the restore
   (`backup.restored`: the backup's digest, the size of the restored audit log — entries
   after it from before the restore are not in this log — and what was re-applied), and sign
   a checkpoint of the restored log;
5. SQLite only: replace the database by the staging file. Until then the database is as it
   was, so a failure in 2-4 changes nothing. On PostgreSQL a failure in 3-4 leaves the backup
   restored without the re-apply: the command says so, and `kluis erasure reapply` finishes it.

Every app process must be stopped during a restore.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path
from typing import Any

from core import Database, fsync_path, is_sqlite
from rights import ReplayReport, Tombstone, reapply_tombstones
from service import migrate
from service.backup import (
    BackupError,
    BackupFile,
    check_backup,
    restore_postgresql,
    sqlite_copy,
    sqlite_path,
)
from service.runtime import build_runtime
from service.settings import Settings

ACTOR = "operator:cli"


@dataclasses.dataclass
class RestoreResult:
    backup: BackupFile
    restored_tree_size: int
    tree_size: int
    replay: ReplayReport

    def to_json(self) -> dict[str, Any]:
        return {
            "backup": self.backup.to_json(),
            "audit": {"restored_tree_size": self.restored_tree_size, "tree_size": self.tree_size},
            **self.replay.to_json(),
        }


class ReapplyFailed(BackupError):
    """The backup is restored, but the erasures were not re-applied (PostgreSQL)."""


def reapply(
    settings: Settings,
    database: Database,
    tombstones: list[Tombstone],
    facts: dict[str, Any],
) -> tuple[int, int, ReplayReport]:
    """Step 4 on `database`: returns (restored tree size, tree size after, report)."""
    runtime = build_runtime(settings, database)
    with runtime.db.transaction() as session:
        restored_size = runtime.audit.size(session)
        report = reapply_tombstones(
            session,
            runtime.oidc,
            runtime.accounts,
            tombstones,
            actor=ACTOR,
            restore={**facts, "restored_tree_size": restored_size},
            vouching_config=runtime.vouching,
        )
        checkpoint = runtime.audit.checkpoint(session)
        size = checkpoint.tree_size
    return restored_size, size, report


def _facts(backup: BackupFile) -> dict[str, Any]:
    return {"backup_sha256": backup.sha256, "backup_format": backup.format}


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _detach_wal(path: Path) -> None:
    """Fold the WAL into the file: the staging file must stand on its own when renamed."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _restore_sqlite(
    settings: Settings, backup: BackupFile, tombstones: list[Tombstone]
) -> RestoreResult:
    live = sqlite_path(settings.database_url)
    staging = live.with_name(f"{live.name}.restoring")
    sidecars = [Path(f"{staging}{suffix}") for suffix in ("-wal", "-shm", "-writers")]
    for stale in (staging, *sidecars):
        stale.unlink(missing_ok=True)
    try:
        sqlite_copy(backup.path, staging)
        migrate.upgrade(_sqlite_url(staging))
        database = Database.from_url(_sqlite_url(staging))
        try:
            restored, size, report = reapply(settings, database, tombstones, _facts(backup))
        finally:
            database.dispose()
        _detach_wal(staging)
        # The old database's WAL must not be replayed into the restored file.
        for suffix in ("-wal", "-shm"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        os.replace(staging, live)
        fsync_path(live.parent)
    finally:
        for leftover in (staging, *sidecars):
            leftover.unlink(missing_ok=True)
    return RestoreResult(backup, restored, size, report)


def _restore_postgresql(
    settings: Settings, backup: BackupFile, tombstones: list[Tombstone]
) -> RestoreResult:
    restore_postgresql(settings.database_url, backup.path)
    database = Database.from_url(settings.database_url)
    try:
        migrate.upgrade(settings.database_url)
        restored, size, report = reapply(settings, database, tombstones, _facts(backup))
    except Exception as exc:
        raise ReapplyFailed(
            f"the backup was restored, but the erasures since it were NOT re-applied ({exc}). "
            "Do not start the service: fix the cause and run `kluis erasure reapply`."
        ) from exc
    finally:
        database.dispose()
    return RestoreResult(backup, restored, size, report)


def restore(settings: Settings, source: Path, tombstones: list[Tombstone]) -> RestoreResult:
    dialect = "sqlite" if is_sqlite(settings.database_url) else "postgresql"
    backup = check_backup(dialect, source)
    if dialect == "sqlite":
        return _restore_sqlite(settings, backup, tombstones)
    return _restore_postgresql(settings, backup, tombstones)
