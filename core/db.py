"""Database plumbing: the declarative base, a UTC timestamp type, and `Database`, which owns an
engine and hands out sessions.

SQLite is the embedded default (WAL, foreign keys on, writers serialised by BEGIN IMMEDIATE);
PostgreSQL is the grown-up one. The SQLite driver in Python 3.11 manages transactions itself
and breaks SAVEPOINT; we switch its own handling off and emit BEGIN ourselves, as SQLAlchemy's
documentation prescribes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (savepoints work)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
        # writes fails at once with "database is locked" when another writer got in between
        # (busy_timeout cannot help there); waiting for the lock instead keeps one-time codes
        # single-use and concurrent requests correct. SQLite is the small-scale default.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class Database:
    """Owns the engine and the session factory. Tests bind it to one connection whose outer
    transaction is rolled back afterwards (`Database.bound_to`)."""

    def __init__(self, engine: Engine, bind: Engine | Connection | None = None) -> None:
        self.engine = engine
        target = bind if bind is not None else engine
        join_mode = (
            "create_savepoint" if isinstance(target, Connection) else "conditional_savepoint"
        )
        self._factory = sessionmaker(
            bind=target, expire_on_commit=False, join_transaction_mode=join_mode
        )

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(make_engine(url, **kwargs))

    @classmethod
    def bound_to(cls, connection: Connection) -> Database:
        return cls(connection.engine, bind=connection)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._factory()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with self._factory() as session, session.begin():
            yield session

    def ping(self) -> bool:
        with self._factory() as session:
            session.execute(text("SELECT 1"))
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def lock_named(session: Session, name: str) -> None:
    """Serialise the holders of `name` (appenders of one append-only sequence, counters of one
    rate limit) until the current transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed by `name`. SQLite serialises writers
    itself (one writer at a time), so nothing is needed there.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})


def db_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session per request from `app.state.db`. Routes commit
    explicitly (through their service functions); anything uncommitted is rolled back."""
    database: Database = request.app.state.db
    with database.session() as session:
        yield session


def rowcount(result: object) -> int:
    """Rows matched by an UPDATE/DELETE: how one-time things are consumed atomically
    (`UPDATE … WHERE used_at IS NULL` matched exactly one row, or someone else got there)."""
    return int(getattr(result, "rowcount", 0) or 0)
