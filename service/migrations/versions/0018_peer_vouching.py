"""peer vouching: confirmation requests and confirmations, seed vouchers, reports of fakes,
suspensions, peer grants and keyed address references (no personal data)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vouching_addresses",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("address_ref", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_addresses_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_vouching_addresses")),
    )
    with op.batch_alter_table("vouching_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vouching_addresses_address_ref"), ["address_ref"], unique=False
        )

    op.create_table(
        "vouching_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("offer_id", sa.String(length=32), nullable=False),
        sa.Column("granted_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("lapsed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lapse_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_grants_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouching_grants")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_vouching_grants_offer_id")),
    )
    with op.batch_alter_table("vouching_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vouching_grants_account", ["account_id", "granted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vouching_grants_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "vouching_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reporter_id", sa.String(length=32), nullable=True),
        sa.Column("reported_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "state IN ('open', 'fake', 'dismissed')", name=op.f("ck_vouching_reports_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["accounts.id"],
            name=op.f("fk_vouching_reports_decided_by_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reported_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_reports_reported_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_reports_reporter_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouching_reports")),
    )
    with op.batch_alter_table("vouching_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vouching_reports_reported_id"), ["reported_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vouching_reports_reporter_id"), ["reporter_id"], unique=False
        )

    op.create_table(
        "vouching_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("vouchee_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("opened_by", sa.String(length=160), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["vouchee_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_requests_vouchee_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouching_requests")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_vouching_requests_code_hash")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_vouching_requests_token_hash")),
    )
    with op.batch_alter_table("vouching_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vouching_requests_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vouching_requests_vouchee_id"), ["vouchee_id"], unique=False
        )

    op.create_table(
        "vouching_seeds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("appointed_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("appointed_by", sa.String(length=160), nullable=False),
        sa.Column("removed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=160), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_seeds_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouching_seeds")),
    )
    with op.batch_alter_table("vouching_seeds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vouching_seeds_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "vouching_confirmations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("voucher_id", sa.String(length=32), nullable=False),
        sa.Column("vouchee_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "voucher_id <> vouchee_id", name=op.f("ck_vouching_confirmations_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["vouching_requests.id"],
            name=op.f("fk_vouching_confirmations_request_id_vouching_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["vouchee_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_confirmations_vouchee_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_confirmations_voucher_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouching_confirmations")),
    )
    with op.batch_alter_table("vouching_confirmations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_vouching_confirmations_vouchee", ["vouchee_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_vouching_confirmations_voucher", ["voucher_id", "created_at"], unique=False
        )

    op.create_table(
        "vouching_suspensions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("voucher_id", sa.String(length=32), nullable=False),
        sa.Column("report_id", sa.String(length=32), nullable=True),
        sa.Column("starts_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("until", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["vouching_reports.id"],
            name=op.f("fk_vouching_suspensions_report_id_vouching_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["accounts.id"],
            name=op.f("fk_vouching_suspensions_voucher_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouching_suspensions")),
    )
    with op.batch_alter_table("vouching_suspensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vouching_suspensions_voucher_id"), ["voucher_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("vouching_suspensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouching_suspensions_voucher_id"))

    op.drop_table("vouching_suspensions")
    with op.batch_alter_table("vouching_confirmations", schema=None) as batch_op:
        batch_op.drop_index("ix_vouching_confirmations_voucher")
        batch_op.drop_index("ix_vouching_confirmations_vouchee")

    op.drop_table("vouching_confirmations")
    with op.batch_alter_table("vouching_seeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouching_seeds_account_id"))

    op.drop_table("vouching_seeds")
    with op.batch_alter_table("vouching_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouching_requests_vouchee_id"))
        batch_op.drop_index(batch_op.f("ix_vouching_requests_expires_at"))

    op.drop_table("vouching_requests")
    with op.batch_alter_table("vouching_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouching_reports_reporter_id"))
        batch_op.drop_index(batch_op.f("ix_vouching_reports_reported_id"))

    op.drop_table("vouching_reports")
    with op.batch_alter_table("vouching_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouching_grants_expires_at"))
        batch_op.drop_index("ix_vouching_grants_account")

    op.drop_table("vouching_grants")
    with op.batch_alter_table("vouching_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouching_addresses_address_ref"))

    op.drop_table("vouching_addresses")
