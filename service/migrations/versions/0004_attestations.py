"""attestations: status lists, issued credentials (metadata only), credential offers,
OpenID4VCI access tokens and nonces

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 07:25:30.556986
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004"
down_revision = "0003"
branch_labels = None
# the offers and issued credentials refer to accounts (revision 0002, another branch)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "status_lists",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("bits", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("bits IN (1, 2, 4, 8)", name=op.f("ck_status_lists_bits_allowed")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
    )
    op.create_table(
        "vci_nonces",
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce_hash", name=op.f("pk_vci_nonces")),
    )
    with op.batch_alter_table("vci_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vci_nonces_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "credential_offers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("ref_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("claims_enc", sa.LargeBinary(), nullable=False),
        sa.Column("code_enc", sa.LargeBinary(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("tx_code_hash", sa.String(length=64), nullable=False),
        sa.Column("failed_tx_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_credential_offers_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_offers")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_credential_offers_code_hash")),
        sa.UniqueConstraint("ref_hash", name=op.f("uq_credential_offers_ref_hash")),
    )
    with op.batch_alter_table("credential_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credential_offers_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_credential_offers_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "issued_credentials",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status_list_id", sa.String(length=32), nullable=False),
        sa.Column("status_idx", sa.Integer(), nullable=False),
        sa.Column("issued_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_issued_credentials_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"],
            ["status_lists.id"],
            name=op.f("fk_issued_credentials_status_list_id_status_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_credentials")),
        sa.UniqueConstraint("status_list_id", "status_idx", name="uq_issued_credentials_status"),
    )
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_status_list_id"), ["status_list_id"], unique=False
        )

    op.create_table(
        "vci_access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["credential_offers.id"],
            name=op.f("fk_vci_access_tokens_offer_id_credential_offers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_vci_access_tokens")),
    )
    with op.batch_alter_table("vci_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vci_access_tokens_offer_id"), ["offer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("vci_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vci_access_tokens_offer_id"))

    op.drop_table("vci_access_tokens")
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credentials_status_list_id"))
        batch_op.drop_index(batch_op.f("ix_issued_credentials_account_id"))

    op.drop_table("issued_credentials")
    with op.batch_alter_table("credential_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_offers_expires_at"))
        batch_op.drop_index(batch_op.f("ix_credential_offers_account_id"))

    op.drop_table("credential_offers")
    with op.batch_alter_table("vci_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vci_nonces_expires_at"))

    op.drop_table("vci_nonces")
    op.drop_table("status_lists")
