"""tasks addressed to one person (issue 18, need-to-know): ``human_task.personal``

A task of a lane outside the handling commission whose assignee the process names (the 函询 reply to
the letter's recipient) belongs to that person alone: no pool of his unit and role sees or takes it,
and ``instance_access`` grants its units' leaders only. Existing tasks were all pool tasks: false.

Revision ID: 0007_personal_tasks
Revises: 0006_attachment_encryption
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_personal_tasks"
down_revision = "0006_attachment_encryption"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_column("personal")
