"""PostgreSQL pool: a connection that rested in the pool is pinged at checkout (one round trip,
leaving it outside a transaction) and, if its server side is gone, the whole pool is dropped;
one used a moment ago is not pinged (no round trip per request)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from core.db import make_engine
from tests.support.databases import backend

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL's pool only")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("core.db._clock", clock)
    return clock


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(database_url: str, *pids: int) -> None:
    killer = make_engine(database_url)
    with killer.connect() as conn:
        for pid in pids:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
        conn.commit()
    killer.dispose()


def test_a_rested_connection_whose_server_is_gone_is_replaced(
    database_url: str, clock: Clock
) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    first = _backend_pid(engine)
    _terminate(database_url, first)
    clock.now = 60.0  # it rested a minute
    try:
        second = _backend_pid(engine)  # no error: the dead one was found and replaced
    finally:
        engine.dispose()
    assert second != first


def test_one_dead_rested_connection_drops_the_whole_pool(database_url: str, clock: Clock) -> None:
    """After a failover every pooled connection is gone: the first failed ping must not leave
    the others, which rested less and are not pinged, to fail a request each."""
    engine = make_engine(database_url, pool_size=2, max_overflow=0, pool_use_lifo=False)
    a, b = engine.connect(), engine.connect()
    pids = [int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in (a, b)]
    a.close()  # rests 60 s
    clock.now = 59.5
    b.close()  # rests 0.5 s
    _terminate(database_url, *pids)
    clock.now = 60.0
    try:
        assert _backend_pid(engine) not in pids  # a: pinged, found gone, pool dropped
        assert _backend_pid(engine) not in pids  # b was dropped with it: a new connection
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(database_url: str, clock: Clock) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    first = _backend_pid(engine)
    _terminate(database_url, first)
    clock.now = 0.5  # within the rest allowance
    try:
        with pytest.raises(OperationalError, match=r"terminat|closed|connection"):
            _backend_pid(engine)  # not pinged, so the broken connection is used and fails
        assert _backend_pid(engine) != first  # and the pool was invalidated: a new one
    finally:
        engine.dispose()


def test_the_ping_of_a_healthy_connection_is_one_statement_outside_a_transaction(
    database_url: str, clock: Clock
) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    seen: list[str] = []
    first = _backend_pid(engine)
    clock.now = 60.0
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert not raw.autocommit  # back to the driver's default for the app's work
            event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first
    finally:
        engine.dispose()
    assert seen == ["SELECT pg_backend_pid()"]
