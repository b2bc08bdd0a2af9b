"""wrapped keys record which key-encryption key wrapped them (its fingerprint), so the
key-encryption secret can be rotated; NULL means the root secret, as before

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("signing_keys", "subject_keys"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("kek_fingerprint", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # Without fingerprints every row is read as wrapped under the root secret. Move rows off a
    # separate key-encryption secret first: `kluis secret rotate` with it no longer set as
    # KLUIS_KEY_ENCRYPTION_SECRET but listed in KLUIS_PREVIOUS_KEY_ENCRYPTION_SECRETS.
    for table in ("subject_keys", "signing_keys"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("kek_fingerprint")
