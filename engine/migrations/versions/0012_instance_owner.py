"""every instance's owning commission in ``process_instance.owner_unit`` (issue 18: the cockpit's scope)

Until now only scheduled instances had it. New instances get it when they start (engine/instances/entry.py
``owning_commission``, engine/runtime/core.py); here the instances already stored get it from what they
say about themselves: the one commission of their tasks' candidate units, else the one commission of the
person who started them. An instance neither tells stays without an owner, and so outside every
manager's cockpit (administrators still see it) — rather than guessed into some commission's.

Revision ID: 0012_instance_owner
Revises: 0011_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_instance_owner"
down_revision = "0011_sessions"
branch_labels = None
depends_on = None

CHUNK = 1000


def _commissions(conn: sa.engine.Connection) -> dict[str, str]:
    """Unit code -> its commission (engine/organisation/directory.py ``commission_of``, for every unit)."""
    units = {
        code: (parent, kind) for code, parent, kind in conn.execute(sa.text("SELECT code, parent_code, kind FROM unit"))
    }
    committee: dict[str, str] = {}
    for from_code, to_code in conn.execute(
        sa.text("SELECT from_code, to_code FROM unit_link WHERE kind = 'commission_committee' ORDER BY from_code")
    ):
        committee.setdefault(to_code, from_code)
    result: dict[str, str] = {}
    for start in units:
        code, seen, root, found = start, set(), None, None
        while code and code not in seen and code in units:
            seen.add(code)
            parent, kind = units[code]
            if kind == "commission":
                found = code
                break
            root, code = code, parent
        if found is None and root is not None:
            found = committee.get(root)
        if found is not None:
            result[start] = found
    return result


def _one(values: set[str]) -> str | None:
    return next(iter(values)) if len(values) == 1 else None


def upgrade() -> None:
    conn = op.get_bind()
    commission = _commissions(conn)
    by_tasks: dict[int, set[str]] = {}
    for instance_id, unit in conn.execute(
        sa.text(
            "SELECT t.instance_id, c.unit_code FROM human_task t "
            "JOIN human_task_candidate c ON c.task_id = t.id "
            "JOIN process_instance i ON i.id = t.instance_id WHERE i.owner_unit IS NULL"
        )
    ):
        if unit in commission:
            by_tasks.setdefault(instance_id, set()).add(commission[unit])
    by_person: dict[str, set[str]] = {}
    for username, unit in conn.execute(
        sa.text("SELECT u.username, m.unit_code FROM membership m JOIN app_user u ON u.id = m.user_id")
    ):
        if unit in commission:
            by_person.setdefault(username, set()).add(commission[unit])
    owners: dict[str, list[int]] = {}
    for instance_id, started_by in conn.execute(
        sa.text("SELECT id, started_by FROM process_instance WHERE owner_unit IS NULL")
    ):
        owner = _one(by_tasks.get(instance_id, set())) or _one(by_person.get(started_by or "", set()))
        if owner is not None:
            owners.setdefault(owner, []).append(instance_id)
    statement = sa.text("UPDATE process_instance SET owner_unit = :owner WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True)
    )
    for owner, ids in owners.items():
        for start in range(0, len(ids), CHUNK):
            conn.execute(statement, {"owner": owner, "ids": ids[start : start + CHUNK]})


def downgrade() -> None:
    """The owners stay: they were derived, not invented, and the column was there before."""
