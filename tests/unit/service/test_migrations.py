from __future__ import annotations

from sqlalchemy import create_engine, inspect

from service import migrate
from service.models import Base


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
