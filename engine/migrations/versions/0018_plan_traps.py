"""issue 16/19: 0017's index on (updated_at, id) removed, measured on the province data set

For a "newest 20" of a county's instances, or of the few a person may see outside his commissions,
PostgreSQL walked ``ix_instance_updated`` backwards filtering row by row and read most of the 100,000
instances: the cockpit's instance list took 3.4–4.7 s for such a manager (docs/benchmarks.md, "Issue 16").
With ``updated_at`` indexed, every step's update of its instance row could also no longer be a HOT update.
Without it the county's list is an index range on (owner_unit, id) and a sort of its few thousand rows.

Revision ID: 0018_plan_traps
Revises: 0017_dl16
"""

from alembic import op

revision = "0018_plan_traps"
down_revision = "0017_dl16"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_instance_updated", table_name="process_instance")


def downgrade() -> None:
    op.create_index("ix_instance_updated", "process_instance", ["updated_at", "id"])
