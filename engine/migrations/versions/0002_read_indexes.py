"""indexes for the reads at a province's scale (bench/province.py)

- ``human_task (completed_by, status)``: the inbox's ``completed`` tab and its count, and need-to-know
  ("I completed one of its tasks") without scanning every completed task;
- ``process_instance (started_by)``: need-to-know for the one who started an instance.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_task_completed_by_status', 'human_task', ['completed_by', 'status'], unique=False)
    op.create_index('ix_instance_started_by', 'process_instance', ['started_by'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_instance_started_by', table_name='process_instance')
    op.drop_index('ix_task_completed_by_status', table_name='human_task')
