"""one account per person (a keyed hash of the BSN per linked account) and the logins at the
municipality's DigiD broker under way

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_links",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("person_ref", sa.String(length=64), nullable=False),
        sa.Column("linked_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_person_links_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_person_links")),
        sa.UniqueConstraint("person_ref", name=op.f("uq_person_links_person_ref")),
    )
    op.create_table(
        "municipality_logins",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_municipality_logins_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_municipality_logins")),
    )
    with op.batch_alter_table("municipality_logins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_municipality_logins_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_municipality_logins_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("municipality_logins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_municipality_logins_expires_at"))
        batch_op.drop_index(batch_op.f("ix_municipality_logins_account_id"))
    op.drop_table("municipality_logins")
    op.drop_table("person_links")
