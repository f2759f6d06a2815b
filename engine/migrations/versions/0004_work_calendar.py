"""the working-day calendar as managed data (issue 14)

- ``work_calendar``: each year's holiday arrangement (holidays, 调休 make-up working days, the State
  Council notice's number and date) as an administrator entered it; rows are only added, the latest
  of a year wins;
- ``human_task.due_start``: the day a task's limit runs from, so a new arrangement can recompute the
  due dates of open tasks (rows created before this revision have none; the recompute then tries
  their creation day).

Revision ID: 0004_work_calendar
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.db import UTCDateTime

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "0004_work_calendar"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_calendar",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("official", sa.Boolean(), nullable=False),
        sa.Column("notice_no", sa.String(length=120), nullable=True),
        sa.Column("notice_date", sa.Date(), nullable=True),
        sa.Column("holidays", JSON, nullable=False),
        sa.Column("workdays", JSON, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("entered_by", sa.String(length=80), nullable=False),
        sa.Column("entered_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_calendar")),
    )
    op.create_index("ix_work_calendar_year_id", "work_calendar", ["year", "id"], unique=False)
    op.add_column("human_task", sa.Column("due_start", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("human_task", "due_start")
    op.drop_index("ix_work_calendar_year_id", table_name="work_calendar")
    op.drop_table("work_calendar")
