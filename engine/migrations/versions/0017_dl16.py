"""issue 16: index ``process_instance.parent_instance_id`` (a parent's children were found by a full scan)

Reading or deleting one parent's children (call activities, linked instances, the benchmark's reset)
scanned every instance; at province scale (100k instances) that is one sequential scan per parent.

Revision ID: 0017_dl16
Revises: 0016_snap16
"""

from alembic import op

revision = "0017_dl16"
down_revision = "0016_snap16"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_instance_parent", "process_instance", ["parent_instance_id"])


def downgrade() -> None:
    op.drop_index("ix_instance_parent", table_name="process_instance")
