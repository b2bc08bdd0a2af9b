"""vouching sources: a letter keeps the keyed hash of its address, which redeeming it records
for the shared-address rule of peer vouching (never the house number itself); a peer grant
keeps the language its resident claimed it in, for the e-mail when it lapses

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("letter_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address_ref", sa.String(length=64), nullable=True))
    with op.batch_alter_table("vouching_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vouching_grants", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("letter_codes", schema=None) as batch_op:
        batch_op.drop_column("address_ref")
