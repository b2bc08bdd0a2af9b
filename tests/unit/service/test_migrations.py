from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from service import migrate
from service.models import Base
from tests.support.databases import backend


def test_upgrade_creates_every_table_and_downgrade_removes_them(fresh_database: str) -> None:
    engine = create_engine(fresh_database)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        migrate.downgrade(fresh_database, "base")
        assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
        migrate.upgrade(fresh_database)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migrations_agree(fresh_database: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models changed without a migration: {diff}"


def test_migration_history_is_linear() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several heads {heads}: chain the newest revision to the last one"


def _index_method(engine: Engine, name: str) -> tuple[str, list[str] | None] | None:
    """The access method of index `name` in the engine's schema, and its storage options."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT am.amname, c.reloptions FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace"
            ),
            {"name": name},
        ).first()
    return None if row is None else (row[0], row[1])


@pytest.mark.skipif(backend() != "postgresql", reason="BRIN is PostgreSQL's; SQLite keeps a b-tree")
def test_the_audit_time_index_is_brin_on_postgresql_and_a_btree_again_downgraded(
    fresh_database: str,
) -> None:
    engine = create_engine(fresh_database)
    brin = ("brin", ["autosummarize=on"])
    try:
        assert _index_method(engine, "ix_audit_entries_created_at") == brin
        migrate.downgrade(fresh_database, "0025")
        assert _index_method(engine, "ix_audit_entries_created_at") == ("btree", None)
        migrate.upgrade(fresh_database)
        assert _index_method(engine, "ix_audit_entries_created_at") == brin
        assert _index_method(engine, "ix_audit_entries_created_at_new") is None
    finally:
        engine.dispose()
