"""三员分立 (issue 18): the administrator's kind, and requests a second person approves

- ``app_user.admin_kind`` replaces ``is_admin``: NULL for everyone who works on cases, else ``system``,
  ``security`` or ``audit`` (engine/access/sanyuan.py). Every account that was an administrator becomes
  the system administrator: what it did before (organisation, accounts, calendar) is what that kind
  keeps; granting roles and reading the audit trail are given to the other two kinds by hand;
- ``approval_request``: a reveal-role grant or a deploy waiting for a second person's decision.

Revision ID: 0010_sanyuan
Revises: 0009_interference
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from engine.db import UTCDateTime

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "0010_sanyuan"
down_revision = "0009_interference"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("admin_kind", sa.String(length=16), nullable=True))
    op.execute("UPDATE app_user SET admin_kind = 'system' WHERE is_admin")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("is_admin")
    op.create_table(
        "approval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request")),
    )
    op.create_index(op.f("ix_approval_request_kind"), "approval_request", ["kind"], unique=False)
    op.create_index(op.f("ix_approval_request_requested_by"), "approval_request", ["requested_by"], unique=False)
    op.create_index("ix_approval_pending", "approval_request", ["decision", "requested_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_approval_pending", table_name="approval_request")
    op.drop_index(op.f("ix_approval_request_requested_by"), table_name="approval_request")
    op.drop_index(op.f("ix_approval_request_kind"), table_name="approval_request")
    op.drop_table("approval_request")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE app_user SET is_admin = (admin_kind = 'system')")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("admin_kind")
