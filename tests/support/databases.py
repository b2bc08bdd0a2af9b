"""Test databases: SQLite files by default, or fresh PostgreSQL schemas when
KLUIS_TEST_DATABASE_URL points at a server. Every test session (and every xdist worker) gets
its own database or schema, so runs never see each other's data."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.db import Database
from keys import Keyring

ENV_VAR = "KLUIS_TEST_DATABASE_URL"


def server_url() -> str | None:
    return os.environ.get(ENV_VAR) or None


def backend() -> str:
    url = server_url()
    return make_url(url).get_backend_name() if url else "sqlite"


def fresh_database_url(tmp_dir: Path) -> str:
    """A new, empty database: a SQLite file, or a new PostgreSQL schema on the test server."""
    url = server_url()
    if url is None:
        return f"sqlite:///{tmp_dir / f'kluis-{uuid.uuid4().hex[:8]}.sqlite3'}"
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm", "-writers"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    schema = parsed.query["options"]
    assert isinstance(schema, str)
    schema = schema.removeprefix("-csearch_path=")
    engine = create_engine(server_url() or "")
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


@contextlib.contextmanager
def committing_database(url: str, keyring: Keyring) -> Iterator[Database]:
    """A `Database` on an engine of its own at `url` (a `fresh_database`), with the signing
    keys made: an app on it commits for real (not into the test's savepoint)."""
    database = Database.from_url(url)
    with database.transaction() as session:
        keyring.ensure_keys(session)
    try:
        yield database
    finally:
        database.dispose()
