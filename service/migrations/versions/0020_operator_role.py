"""the operator role: operators run the service from the web console at /console

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 23:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account_roles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_account_roles_role_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_account_roles_role_known"), "role IN ('steward', 'desk', 'operator')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM account_roles WHERE role = 'operator'")
    with op.batch_alter_table("account_roles", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_account_roles_role_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_account_roles_role_known"), "role IN ('steward', 'desk')"
        )
