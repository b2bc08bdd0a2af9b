"""Shared fixtures. Each test runs inside a transaction that is rolled back (the app's own
commits become savepoints), on SQLite or — with KLUIS_TEST_DATABASE_URL — on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
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
from service.app import create_app_from_runtime, install_runtime
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


@dataclass
class _SharedApp:
    app: FastAPI
    pristine: dict[str, object]  # app.state as built, before any test touched it
    oauth_paths: frozenset[str]  # the middleware holds the set itself: restored in place
    routes: int


# One app per worker and per shape of the settings the app's construction reads (its
# middleware, routes and templates): most tests share one, re-pointed at their own runtime.
_SHARED_APPS: dict[tuple[object, ...], _SharedApp] = {}


def _app_shape(settings: Settings) -> tuple[object, ...]:
    return (
        settings.issuer,
        settings.secret_bytes,
        settings.production,
        tuple(settings.trusted_proxy_list),
    )


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    """The app, pointed at this test's runtime. Built once per shape of settings; whatever a
    test put on `app.state` is gone for the next test, which finds the state as built."""
    shape = _app_shape(runtime.settings)
    shared = _SHARED_APPS.get(shape)
    if shared is None:
        app = create_app_from_runtime(runtime)
        state = dict(app.state._state)
        paths = frozenset(app.state.oauth_paths)
        _SHARED_APPS[shape] = _SharedApp(app, state, paths, len(app.router.routes))
        return app
    assert len(shared.app.router.routes) == shared.routes, (
        "a test added routes to the shared app: build its own with create_app_from_runtime"
    )
    assert not shared.app.dependency_overrides, "a test left dependency overrides behind"
    state = shared.app.state._state
    state.clear()
    state.update(shared.pristine)
    shared.app.state.oauth_paths.clear()
    shared.app.state.oauth_paths.update(shared.oauth_paths)
    install_runtime(shared.app, runtime, templates=shared.app.state.templates)
    return shared.app


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under xdist (`make test`: `--dist loadgroup`), keep each end-to-end module on one worker,
    and the platform tests (one Kluis for all of them) together: their servers, browsers and
    relying parties start once, not once per worker that happens to run one of their tests."""
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path.startswith("tests/e2e/platforms/"):
            item.add_marker(pytest.mark.xdist_group("e2e-platforms"))
        elif path.startswith("tests/e2e/"):
            item.add_marker(pytest.mark.xdist_group(path))
