"""issue 16: an instance's earliest open due time, kept by triggers, for the overdue counts

``process_instance.open_due_at`` is the earliest due time of the instance's open tasks, set by triggers on
``human_task`` in the transaction that changes a task (engine/instances/open_due.py). "Overdue" becomes a
column test, and the cockpit's overdue list counts a commission's overdue instances from one range of
``ix_instance_owner_status_due`` instead of matching every owned instance against every open task.

The backfill rewrites every instance with an open due task (45,000 of the province's 100,000: 17 s with
the index). On a PostgreSQL without autovacuum, run ``VACUUM ANALYZE process_instance`` afterwards: until
then the rewritten pages are not all-visible, and the counts this index serves read the table instead
(a sequential scan, 150 ms for the province's running count, against 10-30 ms after the VACUUM).

Revision ID: 0021_due16
Revises: 0020_inbox19
"""

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime
from engine.instances import open_due

revision = "0021_due16"
down_revision = "0020_inbox19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("process_instance", sa.Column("open_due_at", UTCDateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    open_due.backfill(bind)
    open_due.install(bind)
    op.create_index("ix_instance_owner_status_due", "process_instance", ["owner_unit", "status", "open_due_at"])
    if bind.dialect.name == "postgresql":
        op.execute("ANALYZE process_instance")  # nothing else analyses here (no autovacuum)


def downgrade() -> None:
    open_due.remove(op.get_bind())
    op.drop_index("ix_instance_owner_status_due", table_name="process_instance")
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_column("open_due_at")
