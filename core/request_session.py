"""A request's database session: the `db_session` dependency of sync routes, `in_session` for
the hot endpoints, and `autocommit_on_server` for requests that write one statement at most."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, exc
from sqlalchemy.orm import Session

from core.db import Database, connection_lost, error_fields

log = logging.getLogger("kluis.db")


def autocommit_on_server(session: Session) -> None:
    """On PostgreSQL, each statement of this session commits on its own (autocommit), for
    requests that write one statement at most (authorize, UserInfo's audit append, every
    request of a verification): a BEGIN and a COMMIT would add two round trips and nothing
    else, since one statement is as atomic alone and durable before the answer leaves.
    Every statement of a READ COMMITTED transaction reads its own snapshot anyway. A change
    and its audit entry are one statement with `audit.record_if`; a request that writes
    twice otherwise must keep its transaction: here each write would commit alone. Not when
    the session is bound to a connection a caller holds (tests, in a transaction of their
    own), nor on SQLite (local: no round trips to save)."""
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def database_of(request: Request) -> Database:
    """The app's database (`app.state.db`), for routes that open their own short
    transactions (long-polls and event streams, which must not hold one while they wait)."""
    database: Database = request.app.state.db
    return database


async def db_session(request: Request) -> AsyncIterator[Session]:
    """FastAPI dependency: one session per request from `app.state.db`. Routes commit
    explicitly (through their service functions); anything uncommitted is rolled back.

    Async, so that opening and closing the session cost no thread hops: creating a session
    touches no connection, and closing one whose work was committed or never began only
    returns nothing to the pool. A session still in a transaction (a request that failed)
    is rolled back and closed in the thread pool, since that is a round trip."""
    session = database_of(request).session()
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):  # closed even if the client went away
                await run_in_threadpool(_close_rolling_back, session)
        else:
            session.close()


def _close_rolling_back(session: Session) -> None:
    """Close a session whose transaction never committed. Should the connection be lost
    meanwhile (a failover), the transaction went with it: the server rolls it back, as the
    close would have. That is no error of the request, whose answer may already be on its
    way (a read-only route's), so it is logged, not raised."""
    try:
        session.close()
    except exc.DBAPIError as error:
        if not connection_lost(error):
            raise
        log.warning(
            "database connection lost while rolling back; nothing was committed",
            extra=error_fields(error),
        )


T = TypeVar("T")


async def in_session(request: Request, work: Callable[[Session], T], *, local: bool = False) -> T:
    """`work(session)` in the thread pool, in a session of its own: what `db_session` gives a
    sync route, for the short, hot endpoints (token, UserInfo, verification) without FastAPI's
    dependency machinery (an async generator entered with its exit stack, a visible share of
    such a request's CPU). One thread hop, as for a sync route; whatever `work` left
    uncommitted is rolled back when the session closes, in the same thread.

    `local=True` says that `work` never waits on anything but the database (no network
    call, no sleep). On SQLite such work runs right here, on the event loop's thread, when
    its transaction can begin without waiting (`Database.session_now`): SQLite answers from
    this process and the GIL lets one thread run at a time anyway, so the thread hop and the
    switching between threads were a third of a short request's CPU. When the write lock is
    taken, the work waits for it in the thread pool as before."""
    database = database_of(request)
    if local:
        with database.session_now() as session:
            if session is not None:
                return work(session)

    def run() -> T:
        with database.session() as session:
            return work(session)

    return await run_in_threadpool(run)
