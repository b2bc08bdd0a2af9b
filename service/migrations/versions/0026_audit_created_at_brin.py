"""audit: the entries' `created_at` index as BRIN on PostgreSQL

Entries are appended nearly in time order (each batch takes its moment just before the
append lock): a BRIN index (the least and greatest `created_at` per range of table pages)
serves the stewards' time filter as a b-tree did, at a fraction of its size and of the
server's work per appended entry (bench/README.md, `audit` round 9). `autosummarize`: each
range of pages is summarised once it is full, not only when VACUUM next runs (until then a
time filter reads the whole range).

The new index is built first, under a temporary name, while appends wait and reads go on
(seconds for millions of entries); then the b-tree is dropped and the new index takes its
name. SQLite keeps its b-tree.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 13:10:00
"""

from __future__ import annotations

from typing import Any

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_INDEX = "ix_audit_entries_created_at"
_BUILDING = "ix_audit_entries_created_at_new"


def _replace(**kwargs: Any) -> None:
    op.create_index(_BUILDING, "audit_entries", ["created_at"], **kwargs)
    op.drop_index(_INDEX, table_name="audit_entries")
    op.execute(f"ALTER INDEX {_BUILDING} RENAME TO {_INDEX}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace(postgresql_using="brin", postgresql_with={"autosummarize": "on"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace()
