"""vouching: the lapse e-mails not yet sent, so that a mail server that is down delays the
message instead of losing it (rights/vouching_mail.py)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vouching_lapse_mails",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("lapsed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_lapse_mails_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_vouching_lapse_mails")),
    )
    op.create_index(
        op.f("ix_vouching_lapse_mails_next_attempt_at"),
        "vouching_lapse_mails",
        ["next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_vouching_lapse_mails_next_attempt_at"), table_name="vouching_lapse_mails"
    )
    op.drop_table("vouching_lapse_mails")
