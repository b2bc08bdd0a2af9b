"""Database plumbing: the declarative base, a UTC timestamp type, and `Database`, which owns an
engine and hands out sessions.

SQLite is the embedded default (WAL, foreign keys on, writers serialised by BEGIN IMMEDIATE);
PostgreSQL is the grown-up one. The SQLite driver in Python 3.11 manages transactions itself
and breaks SAVEPOINT; we switch its own handling off and emit BEGIN ourselves, as SQLAlchemy's
documentation prescribes.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import quote

from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.types import TypeDecorator

from core.prepared import execute_on_driver, no_rows
from core.sqlite_checkpoints import WalCheckpointer, wal_checkpointer
from core.sqlite_writers import WriterQueue, writer_queue

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 5  # PostgreSQL: per host of the URL
# PostgreSQL: a pooled connection that rested longer than this is pinged before it is used
IDLE_PING_S = 2.0


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


def multi_host_url(url: str) -> str:
    """libpq's multi-host spelling `postgresql+psycopg://user@h1:5432,h2:5432/db?…` (what
    `pg_autoctl show uri` prints) as SQLAlchemy's, `…@/db?host=h1:5432&host=h2:5432&…`:
    SQLAlchemy's URL parser reads a single port and refuses the list. Other URLs are returned
    unchanged. The psycopg dialect turns the `host` list back into libpq's, so libpq tries the
    hosts in order and `target_session_attrs=read-write` picks the primary."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgresql"):
        return url
    authority, _, tail = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    if "," not in hosts:
        return url
    database, _, query = tail.partition("?")
    params = "&".join(f"host={quote(h, safe='')}" for h in hosts.split(",") if h)
    return f"{scheme}://{userinfo}{at}/{database}?{params}{'&' + query if query else ''}"


def _with_connect_timeout(url: str) -> str:
    """libpq waits for an unreachable host forever by default; a host that vanished without a
    reset (a failed machine) would hang every new connection. Unless the URL says otherwise,
    give up on a host after CONNECT_TIMEOUT_S and try the next one."""
    parsed = make_url(url)
    if "connect_timeout" in parsed.query:
        return url
    parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
    return parsed.render_as_string(hide_password=False)


def libpq_conninfo(url: str) -> str:
    """The libpq connection string the engine's psycopg dialect connects with (every host of
    a multi-host URL, `target_session_attrs`, `options` such as a search_path), for the
    connections Kluis opens without SQLAlchemy (the LISTEN connection)."""
    import psycopg  # PostgreSQL only; the embedded default never needs it

    parsed = make_url(_with_connect_timeout(multi_host_url(url)))
    parsed = parsed.set(drivername="postgresql+psycopg")
    _, params = parsed.get_dialect()().create_connect_args(parsed)
    params.pop("context", None)  # a psycopg adapters map, not a connection parameter
    return psycopg.conninfo.make_conninfo(**params)


def _configure_sqlite(engine: Engine) -> None:
    # first, so that its BEGIN listener runs before the one that emits BEGIN IMMEDIATE
    WriterQueue(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000).install(engine)
    WalCheckpointer().install(engine)  # after the queue: it wakes once the turn is free

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (savepoints work)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a COMMIT returns once the WAL is on disk, so what Kluis acknowledged (a
        # consent withdrawn, an erasure asked for, an audit entry) outlives a power cut; in
        # WAL mode NORMAL syncs only at checkpoints and may lose the last commits
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then
        # writes fails at once with "database is locked" when another writer got in between
        # (busy_timeout cannot help there); waiting for the lock instead keeps one-time codes
        # single-use and concurrent requests correct. SQLite is the small-scale default.
        # execution option kluis_no_wait: fail at once if another process writes
        # (on the driver's connection: `exec_driver_sql` cost ~50 µs of Python per BEGIN)
        if not conn.get_execution_options().get("kluis_no_wait"):
            execute_on_driver(conn, "BEGIN IMMEDIATE", (), no_rows)
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA busy_timeout=0")
        try:
            execute_on_driver(conn, "BEGIN IMMEDIATE", (), no_rows)
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = multi_host_url(url)
    # errors (and so logs) show statements without their values, which can be personal data
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # A pooled connection that rested in the pool is pinged at checkout and, if its server has
    # gone (failover, restart), replaced; one that breaks mid-request invalidates the whole
    # pool (SQLAlchemy's disconnect handling), and the request answers 503 (service.app).
    # LIFO: a lightly loaded server reuses the connection used last, so the others rest (and
    # are pinged when next used) instead of every connection resting a little in turn
    kwargs.setdefault("pool_use_lifo", True)
    engine = create_engine(_with_connect_timeout(url), **kwargs)
    if not kwargs.get("pool_pre_ping"):
        ping_after_rest(engine, IDLE_PING_S)
    return engine


_clock = time.monotonic  # the pool ping's clock (tests move it)


def ping_after_rest(engine: Engine, rest_s: float) -> None:
    """Ping a pooled connection at checkout only when it has rested in the pool for more than
    `rest_s` seconds: SQLAlchemy's `pool_pre_ping` pings at every checkout, one round trip
    more for every request of a busy server, whose connections rest for milliseconds. A
    connection broken while it rested (the server restarted, failed over, or a firewall
    dropped it) is still found before a request uses it; a failure within a busy moment is
    caught by the disconnect handling as before. A failed ping invalidates the whole pool,
    as a disconnect mid-request does: after a failover every other pooled connection is gone
    too, and one that rested less would otherwise be used and fail."""

    @event.listens_for(engine, "checkin")
    def _rested_from(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info["kluis.rest_from"] = _clock()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        rested = record.info.pop("kluis.rest_from", None)
        if rested is None or _clock() - rested <= rest_s:
            return  # new (just connected) or used a moment ago
        try:
            # one round trip, outside a transaction (psycopg would send BEGIN and ROLLBACK too)
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
                dbapi_connection.autocommit = False
        except Exception as error:
            # the pool drops every connection it holds and this checkout connects anew
            raise exc.InvalidatePoolError("the pooled connection is gone") from error


class Database:
    """Owns the engine and the session factory. Tests bind it to one connection whose outer
    transaction is rolled back afterwards (`Database.bound_to`)."""

    def __init__(self, engine: Engine, bind: Engine | Connection | None = None) -> None:
        self.engine = engine
        self._bound = bind is not None
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
    def session_now(self) -> Iterator[Session | None]:
        """SQLite: a session whose transaction has begun, if it could begin without waiting
        (no other transaction of this process or of another one writing); else None, and
        nothing was done. For work on the event loop's thread, which must never wait for the
        write lock: this process's lock stays with the session until it closes (a rollback
        and a new transaction do not let another thread in between), so only another
        process could make it wait, and only for a second transaction. PostgreSQL (and a
        database bound to one connection, in tests): always None."""
        queue = writer_queue(self.engine)
        if queue is None or self._bound or not queue.pin():
            yield None
            return
        try:
            with self._factory() as session:
                try:
                    session.connection(execution_options={"kluis_no_wait": True})  # BEGIN IMMEDIATE
                except exc.OperationalError:  # "database is locked": another process writes
                    began = False
                else:
                    began = True
                yield session if began else None
        finally:
            queue.unpin()

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
        checkpointer = wal_checkpointer(self.engine)
        if checkpointer is not None:  # first: its thread may be about to open the file
            checkpointer.stop()
        self.engine.dispose()


def lock_named(session: Session, name: str) -> None:
    """Serialise the holders of `name` (appenders of one append-only sequence, counters of one
    rate limit) until the current transaction ends.

    PostgreSQL: a transaction-scoped advisory lock keyed by `name` within the current schema.
    Advisory locks belong to the whole database, so the schema is part of the key: two
    deployments (or two test sessions) in schemas of one database do not wait on each
    other's locks. SQLite serialises writers itself (one writer at a time), so nothing is
    needed there.
    """
    connection = session.connection()
    require_transaction(connection, name)
    if connection.dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/' || :n))"),
            {"n": name},
        )


def require_transaction(connection: Connection, lock: str) -> None:
    """Refuse to take the named `lock` on a connection that autocommits: each statement would
    end its own transaction, and with it the lock (`lock_named`, and the audit log's own
    lock-and-read on PostgreSQL)."""
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        raise RuntimeError(f"lock {lock!r} needs a transaction; this session autocommits")


def upsert_insert(session: Session, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `model`'s table in the session's dialect, which can say what to do on
    a conflict (`on_conflict_do_nothing`, `on_conflict_do_update`): PostgreSQL's or SQLite's,
    the two Kluis runs on."""
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def connection_lost(error: BaseException) -> bool:
    """Whether a database error says the connection is gone (the server unreachable, a
    failover, a restart) rather than that a statement was refused."""
    return isinstance(error, exc.OperationalError) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    )


def error_fields(error: BaseException) -> dict[str, Any]:
    """What a log line may say of a database error: the driver's error class and SQLSTATE
    only (its message can quote the statement, and with it personal data)."""
    orig = getattr(error, "orig", None)
    return {"error": type(orig or error).__name__, "sqlstate": getattr(orig, "sqlstate", None)}


def transaction_scoped(session: Session, name: str) -> dict[Any, Any]:
    """A dict kept under `name` in `session.info` for the session's current transaction only:
    what the transaction read once and may use again (a resident's unwrapped data key, the
    active signing kid). A new transaction gets a new dict; outside a transaction it is a
    fresh dict that nothing keeps."""
    transaction = session.get_transaction()
    if transaction is None:
        return {}
    held = session.info.get(name)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[name] = held
    scoped: dict[Any, Any] = held[1]
    return scoped


def rowcount(result: object) -> int:
    """Rows matched by an UPDATE/DELETE: how one-time things are consumed atomically
    (`UPDATE … WHERE used_at IS NULL` matched exactly one row, or someone else got there)."""
    return int(getattr(result, "rowcount", 0) or 0)
