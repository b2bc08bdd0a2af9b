"""Shared fixtures. Each test runs inside a transaction that is rolled back (the app's own
commits become savepoints), on SQLite or — with KLUIS_TEST_DATABASE_URL — on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.db import Database, make_engine
from keys import Keyring, SubjectKeys
from service import migrate
from service.app import create_app_from_runtime
from service.runtime import Runtime, build_runtime
from service.settings import Settings
from tests.support.databases import backend, drop_database, fresh_database_url
from tests.support.vectors import VECTORS

TEST_SECRET = "test-only-key-encryption-material-0123456789abcdef"
TEST_ISSUER = "http://testserver"


def pytest_report_header() -> str:
    return f"kluis test database backend: {backend()}"


@pytest.fixture(scope="session")
def vectors() -> Path:
    if not VECTORS.is_dir():
        pytest.fail(f"official vectors not found at {VECTORS}")
    return VECTORS


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "mode": "development",
        "issuer": TEST_ISSUER,
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": SecretStr(TEST_SECRET),
        "log_level": "INFO",
        "outbox_worker": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database_url(tmp_path_factory.mktemp("db"))
    migrate.upgrade(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring(TEST_SECRET.encode(), retention=dt.timedelta(days=400))


@pytest.fixture(scope="session")
def engine(database_url: str, keyring: Keyring) -> Iterator[Engine]:
    engine = make_engine(database_url)
    # Signing keys are expensive to generate (RSA-3072): create them once, committed.
    with Database(engine).transaction() as session:
        keyring.ensure_keys(session)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def db(connection: Connection) -> Database:
    return Database.bound_to(connection)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url)


@pytest.fixture
def subject_keys() -> SubjectKeys:
    return SubjectKeys(TEST_SECRET.encode())


@pytest.fixture
def runtime(settings: Settings, db: Database) -> Runtime:
    return build_runtime(settings, db)


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app_from_runtime(runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=TEST_ISSUER) as client:
        yield client


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """A separate, migrated database whose commits are real (for concurrency and file scans)."""
    url = fresh_database_url(tmp_path)
    migrate.upgrade(url)
    yield url
    drop_database(url)
