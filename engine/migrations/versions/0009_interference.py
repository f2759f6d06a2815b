"""the interference register (issue 18, the "三个规定")

- ``interference_entry``: who enquired about a case, asked after it or pleaded (打听案情、过问案件、
  说情干预), when and how, what they asked and how the officer responded; the case (instance and its
  business key), the commission whose register keeps it, the recording officer and unit; a correction
  names the entry it corrects;
- ``interference_followup``: the 案管室's or 干部监督室's receipt and handling opinions, by whom and when;
- triggers refusing UPDATE and DELETE of both (engine/interference/guard.py).

Revision ID: 0009_interference
Revises: 0008_duties
"""

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0009_interference"
down_revision = "0008_duties"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interference_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("business_key", sa.String(length=120), nullable=True),
        sa.Column("commission", sa.String(length=64), nullable=False),
        sa.Column("recorder_unit", sa.String(length=64), nullable=False),
        sa.Column("intervener_name", sa.String(length=120), nullable=False),
        sa.Column("intervener_post", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["interference_entry.id"],
            name=op.f("fk_interference_entry_corrects_id_interference_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instance.id"], name=op.f("fk_interference_entry_instance_id_process_instance")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interference_entry")),
    )
    op.create_index(
        "ix_interference_commission_occurred", "interference_entry", ["commission", "occurred_at"], unique=False
    )
    op.create_index(op.f("ix_interference_entry_corrects_id"), "interference_entry", ["corrects_id"], unique=False)
    op.create_index(op.f("ix_interference_entry_instance_id"), "interference_entry", ["instance_id"], unique=False)
    op.create_table(
        "interference_followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("office_unit", sa.String(length=64), nullable=False),
        sa.Column("acted_by", sa.String(length=80), nullable=False),
        sa.Column("acted_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["interference_entry.id"], name=op.f("fk_interference_followup_entry_id_interference_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interference_followup")),
    )
    op.create_index(op.f("ix_interference_followup_entry_id"), "interference_followup", ["entry_id"], unique=False)

    from engine.interference.guard import install

    install(op.get_bind())


def downgrade() -> None:
    from engine.interference.guard import remove

    remove(op.get_bind())
    op.drop_index(op.f("ix_interference_followup_entry_id"), table_name="interference_followup")
    op.drop_table("interference_followup")
    op.drop_index(op.f("ix_interference_entry_instance_id"), table_name="interference_entry")
    op.drop_index(op.f("ix_interference_entry_corrects_id"), table_name="interference_entry")
    op.drop_index("ix_interference_commission_occurred", table_name="interference_entry")
    op.drop_table("interference_entry")
