"""indexes for the reads at a province's scale (bench/province.py)

- ``human_task (completed_by, status)``: the inbox's ``completed`` tab and its count, and need-to-know
  ("I completed one of its tasks") without scanning every completed task;
- ``process_instance (started_by)``: need-to-know for the one who started an instance;
- ``human_task.has_candidates`` with ``(status, role, has_candidates)``: the inbox's "task names no unit,
  so every holder of the role may take it" branch becomes an index lookup instead of a NOT EXISTS proved
  for every open task of the role.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_task_completed_by_status", "human_task", ["completed_by", "status"], unique=False)
    op.create_index("ix_instance_started_by", "process_instance", ["started_by"], unique=False)
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("has_candidates", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE human_task SET has_candidates = EXISTS "
        "(SELECT 1 FROM human_task_candidate c WHERE c.task_id = human_task.id)"
    )
    op.create_index("ix_task_status_role_unscoped", "human_task", ["status", "role", "has_candidates"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_task_status_role_unscoped", table_name="human_task")
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_column("has_candidates")
    op.drop_index("ix_instance_started_by", table_name="process_instance")
    op.drop_index("ix_task_completed_by_status", table_name="human_task")
