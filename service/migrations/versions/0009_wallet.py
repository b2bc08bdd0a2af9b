"""the built-in wallet: held credentials and session pairings

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_credentials",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("issued_credential_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("sd_jwt_enc", sa.LargeBinary(), nullable=False),
        sa.Column("holder_key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stored_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_wallet_credentials_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["issued_credential_id"],
            ["issued_credentials.id"],
            name=op.f("fk_wallet_credentials_issued_credential_id_issued_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_credentials")),
        sa.UniqueConstraint(
            "issued_credential_id", name=op.f("uq_wallet_credentials_issued_credential_id")
        ),
    )
    with op.batch_alter_table("wallet_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_credentials_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "wallet_pairings",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paired_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_wallet_pairings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["verifier_sessions.id"],
            name=op.f("fk_wallet_pairings_session_id_verifier_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_wallet_pairings")),
    )
    with op.batch_alter_table("wallet_pairings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallet_pairings_account_id"), ["account_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("wallet_pairings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_pairings_account_id"))
    op.drop_table("wallet_pairings")
    with op.batch_alter_table("wallet_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_credentials_account_id"))
    op.drop_table("wallet_credentials")
