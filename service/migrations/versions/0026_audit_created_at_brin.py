"""audit: the entries' `created_at` index as BRIN on PostgreSQL

Entries are appended in time order: a BRIN index (the least and greatest `created_at` per
range of table pages) serves the stewards' time filter as a b-tree did, at a fraction of its
size and of the server's work per appended entry (bench/README.md, `audit` round 9). Building
it reads the table once and blocks appends meanwhile (seconds for millions of entries).
SQLite keeps its b-tree.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 13:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_INDEX = "ix_audit_entries_created_at"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(_INDEX, table_name="audit_entries")
    op.create_index(_INDEX, "audit_entries", ["created_at"], postgresql_using="brin")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(_INDEX, table_name="audit_entries")
    op.create_index(_INDEX, "audit_entries", ["created_at"])
