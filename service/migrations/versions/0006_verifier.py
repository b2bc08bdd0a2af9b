"""verifier sessions (OpenID4VP)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 08:07:55.898224
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verifier_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("dcql_query", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("poll_id", sa.String(length=128), nullable=True),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scanned_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("result_expires_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'scanned', 'done', 'cancelled', 'expired')",
            name=op.f("ck_verifier_sessions_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["oidc_clients.client_id"],
            name=op.f("fk_verifier_sessions_client_id_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifier_sessions")),
        sa.UniqueConstraint("state", name=op.f("uq_verifier_sessions_state")),
    )
    with op.batch_alter_table("verifier_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verifier_sessions_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_verifier_sessions_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("verifier_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verifier_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_verifier_sessions_client_id"))
    op.drop_table("verifier_sessions")
