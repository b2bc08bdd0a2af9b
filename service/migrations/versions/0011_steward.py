"""steward role; single-field erasure requests; pending authorization requests know their
resident (so erasure can delete them)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_roles",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=160), nullable=False),
        sa.CheckConstraint("role IN ('steward')", name=op.f("ck_account_roles_role_known")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_roles_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "role", name=op.f("pk_account_roles")),
    )
    with op.batch_alter_table("erasure_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("field", sa.String(length=32), nullable=True))
    with op.batch_alter_table("oidc_authorization_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_oidc_authorization_requests_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oidc_authorization_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_authorization_requests_account_id"))
        batch_op.drop_column("account_id")
    with op.batch_alter_table("erasure_requests", schema=None) as batch_op:
        batch_op.drop_column("field")
    op.drop_table("account_roles")
