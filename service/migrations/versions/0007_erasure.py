"""erasure requests and their per-platform deliveries

Revision ID: 0007
Revises: 0005 (a sibling of 0006; the branches are merged later)
Create Date: 2026-11-24 08:08:46.969730
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=160), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("executed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "requested_by IN ('resident', 'operator')",
            name=op.f("ck_erasure_requests_requested_by_known"),
        ),
        sa.CheckConstraint(
            "status IN ('received', 'executing', 'propagating', 'completed', 'overdue')",
            name=op.f("ck_erasure_requests_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    with op.batch_alter_table("erasure_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erasure_requests_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_erasure_requests_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_erasure_requests_subject_ref"), ["subject_ref"], unique=False
        )

    op.create_table(
        "erasure_deliveries",
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("acknowledged_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["erasure_requests.id"],
            name=op.f("fk_erasure_deliveries_request_id_erasure_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_erasure_deliveries")),
    )
    with op.batch_alter_table("erasure_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasure_deliveries_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("erasure_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_deliveries_request_id"))

    op.drop_table("erasure_deliveries")
    with op.batch_alter_table("erasure_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_requests_subject_ref"))
        batch_op.drop_index(batch_op.f("ix_erasure_requests_status"))
        batch_op.drop_index(batch_op.f("ix_erasure_requests_due_at"))

    op.drop_table("erasure_requests")
