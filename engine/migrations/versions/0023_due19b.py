"""issue 19: one instance's earliest open due time from one short index range

The open-due triggers (engine/instances/open_due.py) ask ``min(due_at)`` of one instance's open tasks
each time a task with a due time is completed. Both databases answered it from an index ordered by due
time (SQLite ``ix_task_status_due``, PostgreSQL ``ix_task_ready_due``), walking the open tasks of every
instance due earlier until one of this instance's turned up: a completion cost grew with the database's
open tasks (SQLite, 4,000 open instances: 7 → 13 ms a completion, 2.8 ms of it in that statement).
``ix_task_instance_status`` gains ``due_at`` as its last column, so the question is the range (instance,
'ready') of that index, whose first entry is the answer; every query the two-column index served is
served by the same prefix.

Revision ID: 0023_due19b
Revises: 0022_due19
"""

from alembic import op

revision = "0023_due19b"
down_revision = "0022_due19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_task_instance_status", table_name="human_task")
    op.create_index("ix_task_instance_status", "human_task", ["instance_id", "status", "due_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE human_task")


def downgrade() -> None:
    op.drop_index("ix_task_instance_status", table_name="human_task")
    op.create_index("ix_task_instance_status", "human_task", ["instance_id", "status"])
