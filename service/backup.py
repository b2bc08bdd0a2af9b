"""`kluis backup` and `kluis restore`: a consistent copy of the database, and a restore that
does not bring erased residents back.

SQLite: the backup is made with SQLite's online backup API (a consistent snapshot while the
service runs) and checked with `PRAGMA integrity_check`. A restore copies the backup to a new
file next to the database, migrates it, re-applies the tombstone journal there, and only then
replaces the database: if anything fails, the database is as it was.

PostgreSQL: `pg_dump --format=custom` of Kluis's schema (the first `search_path` entry of the
URL's `options`, else `public`), and `pg_restore --clean --single-transaction`, then migrations
and the re-apply in one transaction. The password goes to the tools in the environment, never
on their command line.

A backup file is written under a temporary name and renamed once complete, so PATH is either a
whole backup or absent; an existing PATH is never overwritten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from core import fsync_path, is_sqlite, libpq_conninfo

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
REQUIRED_TABLES = ("alembic_version", "audit_entries", "accounts", "subject_keys")
TOOL_TIMEOUT_S = 3600


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class BackupFile:
    path: Path
    format: str  # "sqlite" | "pg_dump"
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "bytes": self.size,
            "sha256": self.sha256,
        }


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _described(path: Path, fmt: str) -> BackupFile:
    return BackupFile(path, fmt, path.stat().st_size, _digest(path))


@contextmanager
def _new_file(path: Path) -> Iterator[Path]:
    """A temporary name next to `path`, renamed to `path` when the block succeeds."""
    if path.exists():
        raise BackupError(f"{path} exists; give a new file name (a backup never overwrites)")
    if not path.parent.is_dir():
        raise BackupError(f"directory {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        fsync_path(partial)
        os.link(partial, path)  # fails rather than replace a file created meanwhile
        fsync_path(path.parent)
    finally:
        partial.unlink(missing_ok=True)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("the SQLite database is in memory; there is nothing to back up")
    return Path(database)


def check_sqlite_file(path: Path) -> None:
    """A whole, readable Kluis database, or BackupError."""
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite backup of Kluis")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is damaged: {exc}") from exc
    if result != [("ok",)]:
        raise BackupError(f"{path} is damaged (SQLite integrity check failed)")
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise BackupError(f"{path} is not a Kluis database (no {', '.join(missing)} table)")


def sqlite_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # one step: a consistent snapshot even while the service writes
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal
        finally:
            dst.close()
    finally:
        src.close()


def backup_sqlite(url: str, target: Path) -> BackupFile:
    source = sqlite_path(url)
    if not source.exists():
        raise BackupError(f"the database {source} does not exist")
    with _new_file(target) as partial:
        sqlite_copy(source, partial)
        check_sqlite_file(partial)
    return _described(target, "sqlite")


# PostgreSQL


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_target(url: str) -> tuple[str, dict[str, str], str]:
    """(conninfo without password, environment with PGPASSWORD, schema)."""
    import psycopg

    params = psycopg.conninfo.conninfo_to_dict(libpq_conninfo(url))
    env = dict(os.environ)
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    schema = "public"
    options = str(params.get("options") or "")
    for option in options.split():
        if option.startswith("-csearch_path="):
            schema = option.removeprefix("-csearch_path=").split(",")[0].strip() or schema
    return psycopg.conninfo.make_conninfo("", **params), env, schema


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 (fixed tools, no shell)
            args, env=env, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"{what} did not finish in {TOOL_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        # pg_* messages name objects and options, never row values
        detail = done.stderr.strip().splitlines()[-3:]
        raise BackupError(f"{what} failed: {' / '.join(detail) or 'exit ' + str(done.returncode)}")
    return done.stdout


def backup_postgresql(url: str, target: Path) -> BackupFile:
    pg_dump = _tool("pg_dump")
    conninfo, env, schema = _pg_target(url)
    with _new_file(target) as partial:
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--schema={schema}",
                f"--file={partial}",
                "--no-owner",
                "--no-privileges",
                f"--dbname={conninfo}",
            ],
            env,
            "pg_dump",
        )
        check_pg_dump(partial)
    return _described(target, "pg_dump")


def check_pg_dump(path: Path) -> None:
    """A whole pg_dump archive of Kluis's tables, or BackupError: the table of contents must
    list them, and the whole archive must read (a truncated file fails here, not halfway
    through a restore)."""
    with path.open("rb") as handle:
        if handle.read(len(PGDUMP_MAGIC)) != PGDUMP_MAGIC:
            raise BackupError(f"{path} is not a pg_dump (custom format) backup of Kluis")
    pg_restore, env = _tool("pg_restore"), dict(os.environ)
    try:
        listing = _run([pg_restore, "--list", str(path)], env, "pg_restore --list")
        _run([pg_restore, "--file=/dev/null", str(path)], env, "pg_restore")
    except BackupError as exc:
        raise BackupError(f"{path} is damaged: {exc}") from exc
    missing = [t for t in REQUIRED_TABLES if not re.search(rf" TABLE DATA \S+ {t} ", listing)]
    if missing:
        raise BackupError(f"{path} is not a Kluis backup (no {', '.join(missing)} table)")


def restore_postgresql(url: str, source: Path) -> None:
    """Replace the schema's contents by the backup's, all or nothing."""
    conninfo, env, _ = _pg_target(url)
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={conninfo}",
            str(source),
        ],
        env,
        "pg_restore",
    )


def backup(url: str, target: Path) -> BackupFile:
    if is_sqlite(url):
        return backup_sqlite(url, target)
    return backup_postgresql(url, target)


def require_file(path: Path) -> None:
    """BackupError unless `path` is a file (checked before anything is asked or changed)."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")


def check_backup(dialect: str, path: Path) -> BackupFile:
    """The backup is whole and fits this database, or BackupError (nothing changed)."""
    require_file(path)
    if dialect == "sqlite":
        check_sqlite_file(path)
        return _described(path, "sqlite")
    check_pg_dump(path)
    return _described(path, "pg_dump")
