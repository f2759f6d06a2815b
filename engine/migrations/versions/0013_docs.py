"""numbers the system issues (issue 15): per-commission, per-year counters and the ledger of issued numbers

- ``unit.doc_prefix``: a commission's 机关代字 for its 文号 (GB/T 9704 发文字号);
- ``number_sequence``: one counter row per owning commission, sequence and year, raised in the
  completion's transaction (engine/numbering/sequences.py);
- ``issued_number``: which step of which instance received which number (发文登记);
- ``user_contact``: a person's e-mail and mobile for notices sent out of the system;
- ``task_notice``: the tasks whose arrival or hand-over was notified (each once);
- ``notification_outbox`` and ``notification_delivery``: the outbound deliveries of each notification,
  claimed by a worker before sending (at most once). Tasks ready at the upgrade count as notified.

Revision ID: 0013_docs
Revises: 0012_instance_owner
"""

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0013_docs"
down_revision = "0012_instance_owner"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("doc_prefix", sa.String(length=20), nullable=True))
    op.create_table(
        "number_sequence",
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "sequence", "year", name=op.f("pk_number_sequence")),
    )
    op.create_table(
        "issued_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=120), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("spec_id", sa.String(length=120), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_issued_number_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_number")),
        sa.UniqueConstraint("scope", "sequence", "year", "value", name="uq_issued_number_scope_sequence_year_value"),
    )
    op.create_index("ix_issued_number_instance_field", "issued_number", ["instance_id", "spec_id", "field"])
    op.create_table(
        "user_contact",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("mobile", sa.String(length=30), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_user_contact")),
    )
    op.create_table(
        "task_notice",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_task_notice_task_id_human_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", "kind", "username", name=op.f("pk_task_notice")),
    )
    op.execute(
        "INSERT INTO task_notice (task_id, kind, username) SELECT id, 'arrived', '' FROM human_task WHERE status = 'ready'"
    )
    op.create_table(
        "notification_outbox",
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_outbox_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_notification_outbox")),
    )
    op.execute("INSERT INTO notification_outbox (notification_id, planned_at) SELECT id, created_at FROM notification")
    op.create_table(
        "notification_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_delivery_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_delivery")),
        sa.UniqueConstraint("notification_id", "channel", "username", name="uq_notification_delivery_once"),
    )
    op.create_index("ix_notification_delivery_status", "notification_delivery", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_notification_delivery_status", table_name="notification_delivery")
    op.drop_table("notification_delivery")
    op.drop_table("notification_outbox")
    op.drop_table("task_notice")
    op.drop_table("user_contact")
    op.drop_index("ix_issued_number_instance_field", table_name="issued_number")
    op.drop_table("issued_number")
    op.drop_table("number_sequence")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("doc_prefix")
