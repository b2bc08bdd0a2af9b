"""audit log, PostgreSQL: one function that appends a small batch of entries under the append
lock, so an audited request's append is one round trip instead of two

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 12:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# `audit.record` spells each entry's canonical JSON but its index and its predecessor's leaf:
# ``heads[i]`` ends with `"idx":` and ``tails[i]`` begins after the `prev` member. Under the
# lock (the key is `core.lock_named`'s) the function reads the tail in a fresh snapshot (a
# VOLATILE PL/pgSQL function's statements each take one; see 0022), completes each entry
# with its index and `"prev":` (null or the lower-case hex leaf before it), hashes it as
# RFC 9162 leaves are hashed (SHA-256 of 0x00 and the UTF-8 text) and stores it. It returns
# the first index, the leaf before it and the last leaf: the caller spells and hashes the
# same entries and refuses to go on if its last leaf differs.
FUNCTION = """
CREATE FUNCTION audit_append(
    lock_name text, created timestamptz, events text[], actors text[], subjects text[],
    heads text[], tails text[]
)
RETURNS TABLE (first_idx bigint, prev_leaf bytea, last_leaf bytea)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    next_idx bigint;
    prev bytea;
    entry_text text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '/' || lock_name));
    SELECT e.idx + 1, e.leaf_hash INTO next_idx, prev
        FROM audit_entries e ORDER BY e.idx DESC LIMIT 1;
    IF next_idx IS NULL THEN
        next_idx := 0;
    END IF;
    first_idx := next_idx;
    prev_leaf := prev;
    FOR i IN 1 .. coalesce(cardinality(heads), 0) LOOP
        entry_text := heads[i] || next_idx::text || ',"prev":'
            || coalesce('"' || encode(prev, 'hex') || '"', 'null') || tails[i];
        prev := sha256(decode('00', 'hex') || convert_to(entry_text, 'UTF8'));
        INSERT INTO audit_entries (idx, created_at, event, actor, subject_ref, entry, leaf_hash)
            VALUES (next_idx, created, events[i], actors[i], subjects[i], entry_text, prev);
        next_idx := next_idx + 1;
    END LOOP;
    last_leaf := prev;
    RETURN NEXT;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION audit_append(text, timestamptz, text[], text[], text[], text[], text[])"
        )
