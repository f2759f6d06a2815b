"""issue 19: the open-due triggers act only for tasks with a due time, and an opening task needs no read

The triggers of 0021 re-read an instance's earliest open due time for every task row they saw, with two
subqueries planned afresh in each call: 0.6 ms of a PostgreSQL completion. Their replacements
(engine/instances/open_due.py) keep the same column with the same meaning: nothing for a task that has
no due time and was not open with one; the smaller of the two times when an open task with a due time
joins the instance; a re-read otherwise. No row changes, so nothing is backfilled.

The downgrade keeps these triggers: they answer exactly as the old ones did on the 0021 schema.

Revision ID: 0022_due19
Revises: 0021_due16
"""

from alembic import op

from engine.instances import open_due

revision = "0022_due19"
down_revision = "0021_due16"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    open_due.remove(bind)
    open_due.install(bind)


def downgrade() -> None:
    """Nothing to undo (see the module's docstring)."""
