"""PostgreSQL pool: a connection that rested in the pool is pinged at checkout and replaced if
its server side is gone; one used a moment ago is not pinged (no round trip per request)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from core.db import make_engine
from tests.support.databases import backend

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL's pool only")


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(database_url: str, pid: int) -> None:
    killer = make_engine(database_url)
    with killer.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
        conn.commit()
    killer.dispose()


def test_a_rested_connection_whose_server_is_gone_is_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    monkeypatch.setattr("core.db.time.monotonic", lambda: 0.0)
    first = _backend_pid(engine)
    _terminate(database_url, first)
    monkeypatch.setattr("core.db.time.monotonic", lambda: 60.0)  # it rested a minute
    try:
        second = _backend_pid(engine)  # no error: the dead one was found and replaced
    finally:
        engine.dispose()
    assert second != first


def test_a_connection_used_a_moment_ago_is_not_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    monkeypatch.setattr("core.db.time.monotonic", lambda: 0.0)
    first = _backend_pid(engine)
    _terminate(database_url, first)
    monkeypatch.setattr("core.db.time.monotonic", lambda: 0.5)  # within the rest allowance
    try:
        with pytest.raises(OperationalError, match=r"terminat|closed|connection"):
            _backend_pid(engine)  # not pinged, so the broken connection is used and fails
        assert _backend_pid(engine) != first  # and the pool was invalidated: a new one
    finally:
        engine.dispose()
