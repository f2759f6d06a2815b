"""numbers the system issues (issue 15): per-commission, per-year counters and the ledger of issued numbers

- ``unit.doc_prefix``: a commission's 机关代字 for its 文号 (GB/T 9704 发文字号);
- ``number_sequence``: one counter row per owning commission, sequence and year, raised in the
  completion's transaction (engine/numbering/sequences.py);
- ``issued_number``: which step of which instance received which number (发文登记).

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


def downgrade() -> None:
    op.drop_index("ix_issued_number_instance_field", table_name="issued_number")
    op.drop_table("issued_number")
    op.drop_table("number_sequence")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("doc_prefix")
