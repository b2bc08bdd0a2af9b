"""trusted issuers of the verifier

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verifier_trusted_issuers",
        sa.Column("iss", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=False),
        sa.Column("vct_values", sa.JSON(), nullable=False),
        sa.Column("added_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("keys_fetched_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source IN ('jwks', 'metadata')",
            name=op.f("ck_verifier_trusted_issuers_source_allowed"),
        ),
        sa.PrimaryKeyConstraint("iss", name=op.f("pk_verifier_trusted_issuers")),
    )


def downgrade() -> None:
    op.drop_table("verifier_trusted_issuers")
