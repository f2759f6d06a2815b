"""issue 15: per-person read state of the notices sent to a unit's role (``notification_read``) and 加签
(``task_consultation``)

Revision ID: 0015_officers15
Revises: 0014_actions
"""

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0015_officers15"
down_revision = "0014_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_read",
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_read_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", "username", name=op.f("pk_notification_read")),
    )

    op.create_table(
        "task_consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("asked_by", sa.String(length=80), nullable=False),
        sa.Column("asked", sa.String(length=80), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_task_consultation_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_task_consultation_task_id_human_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_consultation")),
    )
    op.create_index("ix_task_consultation_task", "task_consultation", ["task_id", "answered_at"])
    op.create_index(op.f("ix_task_consultation_instance_id"), "task_consultation", ["instance_id"])
    op.create_index(op.f("ix_task_consultation_asked"), "task_consultation", ["asked"])


def downgrade() -> None:
    op.drop_table("task_consultation")
    op.drop_table("notification_read")
