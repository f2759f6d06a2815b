"""attachments encrypted at rest (issue 12): where each file is, which key encrypted it, a sealed name

Rows already in the table keep pointing at their plain file (``storage_name`` and ``key_id`` empty)
until ``guantong keys rotate`` encrypts it; nothing here reads or rewrites files.

Revision ID: 0006_attachment_encryption
Revises: 0005_audit_chain
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_attachment_encryption"
down_revision = "0005_audit_chain"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("storage_name", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("name_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("name_sealed")
        batch_op.drop_column("key_id")
        batch_op.drop_column("storage_name")
