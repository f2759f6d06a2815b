"""``task_urge``: the 催办 a leader or 案管室 sends on an open task (issue 15, the actions officers expect)

Revision ID: 0013_actions
Revises: 0012_instance_owner
"""

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0013_actions"
down_revision = "0012_instance_owner"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_urge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("urged_by", sa.String(length=80), nullable=False),
        sa.Column("urged_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_task_urge_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_task_urge_task_id_human_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_urge")),
    )
    op.create_index("ix_task_urge_task", "task_urge", ["task_id", "urged_at"])
    op.create_index(op.f("ix_task_urge_instance_id"), "task_urge", ["instance_id"])


def downgrade() -> None:
    op.drop_table("task_urge")
