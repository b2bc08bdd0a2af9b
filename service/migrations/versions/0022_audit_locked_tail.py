"""audit log, PostgreSQL: one function that takes the append lock and then reads the tail, so the
first append of a transaction costs one round trip less

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 04:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# A VOLATILE PL/pgSQL function takes a fresh snapshot for each statement inside it (READ
# COMMITTED), so the SELECT after the lock sees every append committed before the lock was
# granted: what the two statements did before. One plain statement could not: its snapshot
# is taken before the lock is waited for. The key is `core.lock_named`'s.
FUNCTION = """
CREATE FUNCTION audit_locked_tail(lock_name text)
RETURNS TABLE (idx bigint, leaf_hash bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '/' || lock_name));
    RETURN QUERY SELECT e.idx, e.leaf_hash FROM audit_entries e ORDER BY e.idx DESC LIMIT 1;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_locked_tail(text)")
