"""letters with one-time codes (batches, codes as keyed hashes, paper votes), and the holder
credentials from a letter vote as in polls (`pseudonym_holder`)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "letter_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("municipality_code", sa.String(length=6), nullable=False),
        sa.Column("municipality_name", sa.String(length=100), nullable=False),
        sa.Column("poll_id", sa.String(length=128), nullable=True),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("letter_count", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_batches")),
    )
    op.create_table(
        "letter_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("postcode", sa.String(length=6), nullable=False),
        sa.Column("postcode_area", sa.String(length=4), nullable=False),
        sa.Column("wijk_buurt", sa.String(length=10), nullable=True),
        sa.Column("poll_scope", sa.String(length=128), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_ref", sa.String(length=64), nullable=True),
        sa.Column("offer_id", sa.String(length=32), nullable=True),
        sa.Column("redeemed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["letter_batches.id"],
            name=op.f("fk_letter_codes_batch_id_letter_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_codes")),
        sa.UniqueConstraint("account_ref", "poll_scope", name="uq_letter_codes_account_poll"),
        sa.UniqueConstraint("code_hash", name=op.f("uq_letter_codes_code_hash")),
    )
    with op.batch_alter_table("letter_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_letter_codes_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_letter_codes_postcode_area"), ["postcode_area"], unique=False
        )
    op.create_table(
        "letter_votes",
        sa.Column("letter_id", sa.String(length=32), nullable=False),
        sa.Column("sector", sa.String(length=255), nullable=False),
        sa.Column("poll_id", sa.String(length=128), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("voted_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["letter_id"],
            ["letter_codes.id"],
            name=op.f("fk_letter_votes_letter_id_letter_codes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("letter_id", "sector", "poll_id", name=op.f("pk_letter_votes")),
    )
    for table in ("credential_offers", "issued_credentials"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("pseudonym_holder", sa.String(length=48), nullable=True))


def downgrade() -> None:
    for table in ("issued_credentials", "credential_offers"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("pseudonym_holder")
    op.drop_table("letter_votes")
    with op.batch_alter_table("letter_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_codes_postcode_area"))
        batch_op.drop_index(batch_op.f("ix_letter_codes_batch_id"))
    op.drop_table("letter_codes")
    op.drop_table("letter_batches")
