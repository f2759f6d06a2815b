"""separation of duties by actual actors and the conflict register (issue 18)

- ``case_file`` and ``case_reference``: which instances belong to one case (the clue and case numbers
  they carry, scoped by the owning commission; engine/instances/cases.py fills them as instances start
  or acquire a number, from the next step of each running instance on);
- ``recusal_conflict``: 回避登记, a declared conflict and the leader's keep/replace decision;
- ``human_task.separate_steps``: the steps whose actual actors may not do the task (``separateFromSteps``).

Revision ID: 0008_duties
Revises: 0007_personal_tasks
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.db

revision = "0008_duties"
down_revision = "0007_personal_tasks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=True),
        sa.Column("opened_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_file")),
    )
    op.create_table(
        "case_reference",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=120), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_reference_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_case_reference_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_id", "kind", "value", name=op.f("pk_case_reference")),
    )
    with op.batch_alter_table("case_reference", schema=None) as batch_op:
        batch_op.create_index("ix_case_reference_case", ["case_id", "instance_id"], unique=False)
        batch_op.create_index("ix_case_reference_lookup", ["scope", "kind", "value"], unique=False)

    op.create_table(
        "recusal_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_by", sa.String(length=80), nullable=False),
        sa.Column("self_declared", sa.Boolean(), nullable=False),
        sa.Column("declared_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["process_instance.id"],
            name=op.f("fk_recusal_conflict_instance_id_process_instance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recusal_conflict")),
    )
    with op.batch_alter_table("recusal_conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recusal_conflict_username"), ["username"], unique=False)
        batch_op.create_index("ix_recusal_instance_user", ["instance_id", "username"], unique=False)

    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "separate_steps",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("human_task", schema=None) as batch_op:
        batch_op.drop_column("separate_steps")

    with op.batch_alter_table("recusal_conflict", schema=None) as batch_op:
        batch_op.drop_index("ix_recusal_instance_user")
        batch_op.drop_index(batch_op.f("ix_recusal_conflict_username"))

    op.drop_table("recusal_conflict")
    with op.batch_alter_table("case_reference", schema=None) as batch_op:
        batch_op.drop_index("ix_case_reference_lookup")
        batch_op.drop_index("ix_case_reference_case")

    op.drop_table("case_reference")
    op.drop_table("case_file")
