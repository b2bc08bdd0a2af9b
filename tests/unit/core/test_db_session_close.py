"""`core.db_session` closes a session whose transaction never committed; should the
connection be lost meanwhile (a failover right after a read-only route has answered), the
transaction went with it and the close logs that instead of raising into a response that has
already started."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import exc, text

from core import Database, db_session
from core.request_session import _close_rolling_back


def _request(database: Database) -> Any:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(db=database)))


def test_a_connection_lost_before_the_rollback_is_logged_not_raised(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database.from_url(database_url)
    if database.dialect != "postgresql":
        database.dispose()
        pytest.skip("needs a server whose connection can be ended from outside")

    async def read_then_lose_the_connection() -> None:
        async with contextlib.asynccontextmanager(db_session)(_request(database)) as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()  # in a transaction
            with database.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                other.commit()

    try:
        with caplog.at_level(logging.WARNING, logger="kluis.db"):
            asyncio.run(read_then_lose_the_connection())
        [warning] = [r for r in caplog.records if r.name == "kluis.db"]
        assert warning.getMessage().startswith("database connection lost while rolling back")
        with database.session() as session:  # the pool goes on with a working connection
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        database.dispose()


class _ClosingFails:
    """A session whose close (its rollback) raises `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def close(self) -> None:
        raise self.error


def test_other_errors_of_the_rollback_still_raise(caplog: pytest.LogCaptureFixture) -> None:
    refused = exc.IntegrityError("ROLLBACK", None, Exception("not a lost connection"))
    with pytest.raises(exc.IntegrityError):
        _close_rolling_back(_ClosingFails(refused))  # type: ignore[arg-type]
    lost = exc.OperationalError("ROLLBACK", None, Exception("server closed the connection"))
    with caplog.at_level(logging.WARNING, logger="kluis.db"):
        _close_rolling_back(_ClosingFails(lost))  # type: ignore[arg-type]
    assert [r.getMessage()[:31] for r in caplog.records] == ["database connection lost while "]
