"""audit checkpoints

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 07:45:03.846965
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )


def downgrade() -> None:

    op.drop_table("audit_checkpoints")
