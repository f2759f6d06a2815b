"""issue 19: drop ``ix_task_status_role``, the first two columns of ``ix_task_status_role_unscoped``

Every query that could use (status, role) reads the same entries through the prefix of (status, role,
has_candidates); the shorter index only cost one more B-tree to update on every task written, created,
completed or cancelled.

Revision ID: 0024_due19c
Revises: 0023_due19b
"""

from alembic import op

revision = "0024_due19c"
down_revision = "0023_due19b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_task_status_role", table_name="human_task")


def downgrade() -> None:
    op.create_index("ix_task_status_role", "human_task", ["status", "role"])
