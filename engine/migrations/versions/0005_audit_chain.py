"""tamper-evident audit trail (issue 12): digests, the chain, checks kept, rows the database guards

- ``audit_event``: ``nonce`` (unique), ``key_id`` and ``mac`` written with each event, ``seq`` (unique)
  and ``chain`` filled by the sealer; a partial index on the unsealed ones (the sealer's work list);
- events already in the table are signed here with the configured audit key (engine/audit/keys.py),
  so the sealer links them on its first pass;
- ``audit_check``: the result of each verification, for the cockpit's warning;
- the append-only triggers (engine/audit/guard.py), installed last so the signing above may update.

Revision ID: 0005_audit_chain
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_audit_chain"
down_revision = "0004_work_calendar"
branch_labels = None
depends_on = None

UNSEALED = sa.text("seq IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nonce", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
    _sign_existing()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("nonce", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("key_id", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("mac", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_nonce"), ["nonce"])
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_seq"), ["seq"])
    op.create_index("ix_audit_unsealed", "audit_event", ["id"], postgresql_where=UNSEALED, sqlite_where=UNSEALED)

    op.create_table(
        "audit_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("head_seq", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_check")),
    )
    op.create_index(op.f("ix_audit_check_at"), "audit_check", ["at"], unique=False)

    from engine.audit.guard import install

    install(op.get_bind())


def downgrade() -> None:
    from engine.audit.guard import remove

    remove(op.get_bind())
    op.drop_index(op.f("ix_audit_check_at"), table_name="audit_check")
    op.drop_table("audit_check")
    op.drop_index("ix_audit_unsealed", table_name="audit_event")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_seq"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_audit_event_nonce"), type_="unique")
        for column in ("chain", "seq", "mac", "key_id", "nonce"):
            batch_op.drop_column(column)


def _sign_existing(batch: int = 2000) -> None:
    """Give the events recorded before this revision their nonce and digest, under today's key."""
    from engine.audit.chain import sign
    from engine.db import JSONType, UTCDateTime

    bind = op.get_bind()
    events = sa.table(
        "audit_event",
        sa.column("id", sa.Integer),
        sa.column("at", UTCDateTime()),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("instance_id", sa.Integer),
        sa.column("task_id", sa.Integer),
        sa.column("version_id", sa.Integer),
        sa.column("detail", JSONType),
        sa.column("nonce", sa.String),
        sa.column("key_id", sa.String),
        sa.column("mac", sa.String),
    )
    update = (
        events.update()
        .where(events.c.id == sa.bindparam("b_id"))
        .values(nonce=sa.bindparam("b_nonce"), key_id=sa.bindparam("b_key_id"), mac=sa.bindparam("b_mac"))
    )
    while True:
        rows = (
            bind.execute(sa.select(events).where(events.c.mac.is_(None)).order_by(events.c.id).limit(batch))
            .mappings()
            .all()
        )
        if not rows:
            return
        signed = [sign(dict(row)) for row in rows]
        bind.execute(
            update,
            [{"b_id": e["id"], "b_nonce": e["nonce"], "b_key_id": e["key_id"], "b_mac": e["mac"]} for e in signed],
        )
