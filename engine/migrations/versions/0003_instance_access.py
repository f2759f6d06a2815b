"""need-to-know and inbox reads from indexes at a province's scale (docs/benchmarks.md, section 3)

- ``instance_access``: the (candidate unit, role) pairs each instance's tasks grant, so that listing the
  instances a person may find reads a few index ranges instead of every task their units were ever
  offered (engine/visibility.py derives and maintains it; filled here from the existing tasks);
- ``human_task (role, assignee, id) WHERE status = 'ready'``: the open tasks, which the inbox's pool and
  team tabs join their candidate units against;
- ``human_task_candidate (unit_code, task_id)`` replaces the index on ``unit_code`` alone: a unit's
  tasks without visiting the table;
- the indexes on ``assignee``, ``completed_by`` and ``started_by`` carry the columns their readers
  need (instance, completion time), so those reads do not visit the table either.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'ready'")

# The rows engine/visibility.py ``_access_rows`` derives, as they stood when this revision was written
# (a migration must not change meaning when the code does later).
BACKFILL = """
INSERT INTO instance_access (unit_code, role, instance_id)
SELECT c.unit_code, coalesce(t.role, ''), t.instance_id
  FROM human_task_candidate c JOIN human_task t ON t.id = c.task_id
UNION
SELECT '', t.role, t.instance_id
  FROM human_task t WHERE t.has_candidates = false AND t.role IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "instance_access",
        sa.Column("unit_code", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_instance_access_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_code", "role", "instance_id", name=op.f("pk_instance_access")),
    )
    op.create_index(op.f("ix_instance_access_instance_id"), "instance_access", ["instance_id"], unique=False)
    op.execute(BACKFILL)

    op.create_index(
        "ix_task_open_role",
        "human_task",
        ["role", "assignee", "id"],
        unique=False,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.create_index("ix_candidate_unit_task", "human_task_candidate", ["unit_code", "task_id"], unique=False)
    op.drop_index("ix_human_task_candidate_unit_code", table_name="human_task_candidate")
    _replace_index("ix_task_assignee_status", "human_task", ["assignee", "status", "instance_id"])
    _replace_index(
        "ix_task_completed_by_status", "human_task", ["completed_by", "status", "completed_at", "id", "instance_id"]
    )
    _replace_index("ix_instance_started_by", "process_instance", ["started_by", "id"])


def downgrade() -> None:
    _replace_index("ix_instance_started_by", "process_instance", ["started_by"])
    _replace_index("ix_task_completed_by_status", "human_task", ["completed_by", "status"])
    _replace_index("ix_task_assignee_status", "human_task", ["assignee", "status"])
    op.create_index("ix_human_task_candidate_unit_code", "human_task_candidate", ["unit_code"], unique=False)
    op.drop_index("ix_candidate_unit_task", table_name="human_task_candidate")
    op.drop_index("ix_task_open_role", table_name="human_task")
    op.drop_index(op.f("ix_instance_access_instance_id"), table_name="instance_access")
    op.drop_table("instance_access")


def _replace_index(name: str, table: str, columns: list[str]) -> None:
    """Same name, new columns: drop and build again (the old columns are a prefix of the new ones)."""
    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns, unique=False)
