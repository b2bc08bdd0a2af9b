"""verification sessions: an optional return URI for Kluis's hosted verification page

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verifier_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_uri", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verifier_sessions", schema=None) as batch_op:
        batch_op.drop_column("return_uri")
