"""per-person read state of the notices sent to a unit's role (issue 15): ``notification_read``

Revision ID: 0015_officers15
Revises: 0014_actions
"""

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0015_officers15"
down_revision = "0014_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_read",
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_read_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", "username", name=op.f("pk_notification_read")),
    )


def downgrade() -> None:
    op.drop_table("notification_read")
