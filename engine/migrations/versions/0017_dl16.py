"""issue 16: indexes for province scale (100k instances, ~1M tasks)

- ``ix_instance_parent``: reading or deleting one parent's children (call activities, linked instances,
  and the self-referencing foreign key's check on every deleted instance) scanned every instance.
- ``ix_instance_updated``, ``ix_instance_owner_id``, ``ix_task_ready_due``: the cockpit's instance list
  for a provincial manager read the newest page by sorting all his instances, and its overdue filter
  counted by hashing a sequential scan of them; these make both index ranges.

Revision ID: 0017_dl16
Revises: 0016_snap16
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_dl16"
down_revision = "0016_snap16"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_instance_parent", "process_instance", ["parent_instance_id"])
    op.create_index("ix_instance_updated", "process_instance", ["updated_at", "id"])
    op.create_index("ix_instance_owner_id", "process_instance", ["owner_unit", "id"])
    op.create_index(
        "ix_task_ready_due",
        "human_task",
        ["due_at", "instance_id"],
        postgresql_where=sa.text("status = 'ready'"),
        sqlite_where=sa.text("status = 'ready'"),
    )


def downgrade() -> None:
    op.drop_index("ix_task_ready_due", table_name="human_task")
    op.drop_index("ix_instance_owner_id", table_name="process_instance")
    op.drop_index("ix_instance_updated", table_name="process_instance")
    op.drop_index("ix_instance_parent", table_name="process_instance")
