"""`core.Prepared` runs a fixed statement on the session's DBAPI connection: what it returns
must be what SQLAlchemy returns for the same statement (types converted both ways), in the
same transaction, with the same errors, and visible to the engine's statement listeners."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    exc,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from core import Prepared, UTCDateTime
from identity.oidc.clients import ClientSpec, create_client, get_client, read_client
from identity.oidc.models import Client, Grant

_META = MetaData()
_THINGS = Table(
    "prepared_test_things",
    _META,
    Column("id", String(16), primary_key=True),
    Column("at", UTCDateTime),
    Column("doc", JSON),
    Column("flag", Boolean),
    Column("n", Integer, nullable=True),
)
T0 = dt.datetime(2026, 12, 6, 7, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture
def things(session: Session) -> Iterator[Session]:
    """The session, with a table of its own (created in the test's rolled-back transaction)."""
    connection = session.connection()
    _META.create_all(connection)
    connection.execute(
        _THINGS.insert(),
        [
            {"id": "a", "at": T0, "doc": {"k": [1, "ü"]}, "flag": True, "n": None},
            {"id": "b", "at": T0 + dt.timedelta(hours=1), "doc": [], "flag": False, "n": 7},
            {"id": "c", "at": T0 - dt.timedelta(days=1), "doc": None, "flag": True, "n": 3},
        ],
    )
    yield session


def test_rows_and_values_are_what_sqlalchemy_returns(things: Session) -> None:
    statement = (
        select(_THINGS)
        .where(_THINGS.c.at >= bindparam("since"), _THINGS.c.flag == True)  # noqa: E712
        .order_by(_THINGS.c.at.desc())
        .limit(5)
    )
    params = {"since": T0 - dt.timedelta(days=2)}
    expected = [tuple(row) for row in things.execute(statement, params)]
    rows = Prepared(statement).all(things, params)
    assert [tuple(row) for row in rows] == expected
    assert [row.id for row in rows] == ["a", "c"]  # the literal and the bound datetime applied
    assert rows[0].at == T0 and rows[0].at.tzinfo is not None
    assert rows[0].doc == {"k": [1, "ü"]} and rows[0].flag is True and rows[0].n is None


def test_one_name_bound_twice_gets_one_value(things: Session) -> None:
    now = bindparam("now")
    statement = (
        select(_THINGS.c.id).where(or_(_THINGS.c.at == now, _THINGS.c.at > now)).order_by("id")
    )
    found = Prepared(statement).all(things, {"now": T0})
    assert [row.id for row in found] == ["a", "b"]


def test_first_is_none_without_a_row(things: Session) -> None:
    statement = select(_THINGS.c.id).where(_THINGS.c.id == bindparam("id"))
    assert Prepared(statement).first(things, {"id": "zzz"}) is None
    assert Prepared(statement).first(things, {"id": "b"}) == ("b",)


def test_an_update_counts_and_returns_its_rows(things: Session) -> None:
    consume = (
        update(_THINGS)
        .where(_THINGS.c.id == bindparam("key"), _THINGS.c.n.is_(None))
        .values(n=bindparam("value"))
    )
    assert Prepared(consume).rowcount(things, {"key": "a", "value": 1}) == 1
    assert Prepared(consume).rowcount(things, {"key": "a", "value": 2}) == 0  # used once
    returning = (
        update(_THINGS)
        .where(_THINGS.c.id == bindparam("key"))
        .values(at=bindparam("at"))
        .returning(_THINGS.c.id, _THINGS.c.at)
    )
    later = T0 + dt.timedelta(days=3)
    row = Prepared(returning).first(things, {"key": "b", "at": later})
    assert row is not None and row.id == "b" and row.at == later
    assert things.execute(select(_THINGS.c.n).where(_THINGS.c.id == "a")).scalar() == 1


def test_a_missing_parameter_is_refused_before_the_database(things: Session) -> None:
    statement = select(_THINGS.c.id).where(_THINGS.c.id == bindparam("id"))
    with pytest.raises(exc.ArgumentError, match="missing parameters"):
        Prepared(statement).first(things, {})


def test_only_static_statements(things: Session) -> None:
    listed = select(_THINGS.c.id).where(_THINGS.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="not a static statement"):
        Prepared(listed).all(things, {"ids": ["a"]})


def test_driver_errors_are_wrapped_as_sqlalchemy_wraps_them(things: Session) -> None:
    broken = Prepared(select(Column("nope", String)).select_from(_THINGS))
    with pytest.raises(exc.DBAPIError) as raised, things.begin_nested():
        broken.first(things, {})
    assert "nope" in str(raised.value)


def test_listeners_see_each_statement(things: Session) -> None:
    seen: list[str] = []
    engine = things.get_bind().engine

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        Prepared(select(_THINGS.c.id)).all(things, {})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) == 1 and "prepared_test_things" in seen[0]


def test_pending_changes_are_flushed_first(session: Session) -> None:
    client, _ = create_client(session, ClientSpec(name="P", redirect_uris=["https://p.example/cb"]))
    assert read_client(session, client.client_id) is not None  # added, not yet flushed
    assert inspect(client).persistent


def test_an_entity_comes_back_as_a_snapshot_no_session_knows(session: Session) -> None:
    spec = ClientSpec(name="S", redirect_uris=["https://s.example/cb"], purpose="p")
    client, _ = create_client(session, spec)
    session.flush()
    snapshot = read_client(session, client.client_id)
    loaded = get_client(session, client.client_id)
    assert snapshot is not None and loaded is not None and snapshot is not loaded
    for attribute in inspect(Client).column_attrs:
        assert getattr(snapshot, attribute.key) == getattr(loaded, attribute.key), attribute.key
    assert inspect(snapshot).transient and snapshot not in session
    snapshot.name = "changed"  # reading only: nothing is saved
    session.flush()
    session.expire_all()
    reread = get_client(session, client.client_id)
    assert reread is not None and reread.name == "S"


def test_an_outer_joined_entity_that_is_not_there_is_none(session: Session) -> None:
    spec = ClientSpec(name="O", redirect_uris=["https://o.example/cb"], purpose="p")
    client, _ = create_client(session, spec)
    session.flush()
    statement = (
        select(Client, Grant)
        .outerjoin(Grant, Grant.client_id == Client.client_id)
        .where(Client.client_id == bindparam("client_id"))
    )
    params = {"client_id": client.client_id}
    expected = session.execute(statement, params).one()
    found = Prepared(statement).first(session, params)
    assert expected[1] is None  # what SQLAlchemy's ORM hands back for a grant not found
    assert found[1] is None
    assert found[0] is not None and found[0].client_id == client.client_id
