"""issue 16: the cockpit's instance lists read one ordered index range per overseen commission

``ix_instance_owner_status_updated`` on (owner_unit, status, updated_at, id): for each commission a
manager oversees, its instances of one status newest first are the end of one index range, so a page is
the newest few of each commission merged (engine/instances/operations.py ``_overseen_page``), and a
count by status is read from the index alone. Leading with the owner and the status, it cannot be
walked backwards over the whole table for a county's "newest 20" (the trap 0018 removed).

The price, measured on the province data set: with ``updated_at`` in an index no update of an
instance's step can be a HOT update (0 of 6,000 updates, against 10–50 % without it as pages free up);
each such update writes one entry into each of the table's indexes.

Revision ID: 0019_list16
Revises: 0018_plan_traps
"""

from alembic import op

revision = "0019_list16"
down_revision = "0018_plan_traps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_instance_owner_status_updated", "process_instance", ["owner_unit", "status", "updated_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_instance_owner_status_updated", table_name="process_instance")
