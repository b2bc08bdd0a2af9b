"""audit log, PostgreSQL: `audit_append_if`, the append of 0023 only when told to, so that a
write and its audit entry can be one statement (`audit.record.record_if`)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 15:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# `record_if` runs `WITH w AS (<the write> RETURNING …), t AS (SELECT … FROM
# audit_append_if((SELECT count(*) > 0 FROM w), …)) SELECT * FROM w, t`: `go` reads the
# write's rows, so the write has run when the function is called, and a write that matched no
# row (a conditional UPDATE that lost) appends nothing and takes no lock. A CTE with a
# VOLATILE function is evaluated at most once.
FUNCTION = """
CREATE FUNCTION audit_append_if(
    go boolean, lock_name text, created timestamptz, events text[], actors text[],
    subjects text[], heads text[], tails text[]
)
RETURNS TABLE (first_idx bigint, prev_leaf bytea, last_leaf bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF go THEN
        RETURN QUERY SELECT a.first_idx, a.prev_leaf, a.last_leaf
            FROM audit_append(lock_name, created, events, actors, subjects, heads, tails) a;
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION audit_append_if(boolean, text, timestamptz, text[], text[], text[], "
            "text[], text[])"
        )
