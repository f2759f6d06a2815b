"""issue 19: a unit's open candidate rows, indexed apart from its history

The inbox's group and team tabs read a unit's candidate rows against the open tasks. Without a way to
tell the open ones apart in ``human_task_candidate``, PostgreSQL read the role's open tasks province-wide
(``ix_task_open_role``: 14,681 entries for a five-person unit's group count, 52,612 for its leader's team
count) or every task the unit was ever offered (7,718 rows for a prefecture's office, 442 of them open).
``ready`` mirrors the task's status (true while it waits) and ``ix_candidate_ready_unit`` holds only those
rows, so both tabs start from the unit's waiting tasks.

Revision ID: 0020_inbox19
Revises: 0019_list16
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_inbox19"
down_revision = "0019_list16"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added false, then the open tasks' rows (about 5 % at a province's scale) set true: an UPDATE of the
    # closed ones instead rewrote 908,545 of 961,157 rows (47 s, and as many dead rows with autovacuum off).
    op.add_column(
        "human_task_candidate",
        sa.Column("ready", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE human_task_candidate SET ready = true "
        "WHERE task_id IN (SELECT id FROM human_task WHERE status = 'ready')"
    )
    with op.batch_alter_table("human_task_candidate") as batch:
        batch.alter_column("ready", server_default=sa.true(), existing_type=sa.Boolean(), existing_nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        # Without a statistic on ``ready`` PostgreSQL guesses half the rows open and keeps matching them
        # against the role's open tasks province-wide; with it (about 5 % open, a share that stays) it reads
        # the unit's open rows and looks their tasks up by key. Nothing else analyses (no autovacuum).
        op.execute("ANALYZE human_task_candidate")
    op.create_index(
        "ix_candidate_ready_unit",
        "human_task_candidate",
        ["unit_code", "task_id"],
        postgresql_where=sa.text("ready"),
        sqlite_where=sa.text("ready = 1"),
    )


def downgrade() -> None:
    op.drop_index("ix_candidate_ready_unit", table_name="human_task_candidate")
    with op.batch_alter_table("human_task_candidate") as batch:
        batch.drop_column("ready")
