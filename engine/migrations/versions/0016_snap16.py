"""issue 16: the cockpit's figures kept by the worker (``cockpit_snapshot``, engine/cockpit/snapshots.py)

Revision ID: 0016_snap16
Revises: 0015_officers15
"""

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0016_snap16"
down_revision = "0015_officers15"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cockpit_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("scope_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("params", sa.String(length=400), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("compute_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_read_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cockpit_snapshot")),
        sa.UniqueConstraint("kind", "scope_hash", "params", name=op.f("uq_cockpit_snapshot_kind")),
    )
    op.create_index("ix_cockpit_snapshot_computed", "cockpit_snapshot", ["computed_at"])


def downgrade() -> None:
    op.drop_index("ix_cockpit_snapshot_computed", table_name="cockpit_snapshot")
    op.drop_table("cockpit_snapshot")
