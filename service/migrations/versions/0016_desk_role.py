"""the desk role: operators at the municipal desk issue proofs after checking an ID document

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_roles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_account_roles_role_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_account_roles_role_known"), "role IN ('steward', 'desk')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM account_roles WHERE role = 'desk'")
    with op.batch_alter_table("account_roles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_account_roles_role_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_account_roles_role_known"), "role IN ('steward')"
        )
