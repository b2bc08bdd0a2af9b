"""login by QR: Kluis's own verifier sessions and the browser-bound wallet logins

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 06:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verifier_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="platform", nullable=False)
        )
        batch_op.alter_column("client_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_check_constraint(
            batch_op.f("ck_verifier_sessions_kind_allowed"),
            "kind IN ('platform', 'login') AND (kind = 'login' OR client_id IS NOT NULL)",
        )
    op.create_table(
        "wallet_logins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("verifier_session_id", sa.String(length=64), nullable=False),
        sa.Column("binding_hash", sa.String(length=64), nullable=False),
        sa.Column("return_to", sa.Text(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["verifier_session_id"],
            ["verifier_sessions.id"],
            name=op.f("fk_wallet_logins_verifier_session_id_verifier_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_logins")),
        sa.UniqueConstraint(
            "verifier_session_id", name=op.f("uq_wallet_logins_verifier_session_id")
        ),
    )
    with op.batch_alter_table("wallet_logins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_logins_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wallet_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_logins_expires_at"))
    op.drop_table("wallet_logins")
    op.execute("DELETE FROM verifier_sessions WHERE kind = 'login'")
    with op.batch_alter_table("verifier_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_verifier_sessions_kind_allowed"), type_="check")
        batch_op.alter_column("client_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("kind")
