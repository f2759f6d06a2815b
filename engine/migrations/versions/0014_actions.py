"""the actions officers expect (issue 15): ``task_urge`` (催办), ``task_delegation`` (委派), ``case_copy`` (抄送/传阅), ``approval_phrase`` (常用审批意见)

Revision ID: 0014_actions
Revises: 0013_docs
"""

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0014_actions"
down_revision = "0013_docs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_urge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("urged_by", sa.String(length=80), nullable=False),
        sa.Column("urged_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_task_urge_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_task_urge_task_id_human_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_urge")),
    )
    op.create_index("ix_task_urge_task", "task_urge", ["task_id", "urged_at"])
    op.create_index(op.f("ix_task_urge_instance_id"), "task_urge", ["instance_id"])

    op.create_table(
        "task_delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("delegate", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("delegated_at", UTCDateTime(), nullable=False),
        sa.Column("returned_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_task_delegation_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_task_delegation_task_id_human_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_delegation")),
    )
    op.create_index("ix_task_delegation_task", "task_delegation", ["task_id", "returned_at"])
    op.create_index(op.f("ix_task_delegation_instance_id"), "task_delegation", ["instance_id"])
    op.create_index(op.f("ix_task_delegation_delegate"), "task_delegation", ["delegate"])
    op.create_table(
        "case_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=80), nullable=False),
        sa.Column("reader", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_case_copy_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["human_task.id"], name=op.f("fk_case_copy_task_id_human_task"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_copy")),
    )
    op.create_index("ix_case_copy_reader", "case_copy", ["reader", "read_at"])
    op.create_index(op.f("ix_case_copy_instance_id"), "case_copy", ["instance_id"])

    op.create_table(
        "approval_phrase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_phrase")),
    )
    op.create_index(op.f("ix_approval_phrase_username"), "approval_phrase", ["username"])


def downgrade() -> None:
    op.drop_table("approval_phrase")
    op.drop_table("case_copy")
    op.drop_table("task_delegation")
    op.drop_table("task_urge")
