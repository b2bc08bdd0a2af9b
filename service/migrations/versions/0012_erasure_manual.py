"""erasure links record how an operator handled a platform Kluis could not tell automatically

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("erasure_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_by", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("note", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("erasure_deliveries", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("handled_by")
