"""Instances stored before owners were kept get their owning commission from the migration (0012_instance_owner):
the one commission of their tasks' units, else their starter's; one that tells neither stays unowned."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from engine.db import Database
from engine.migrate import upgrade

UNITS = [
    ("pref", "commission", None),
    ("cty", "commission", "pref"),  # a county under its prefecture: its own units are its own
    ("cty_ags", "office", "cty"),
    ("cty_jc1", "office", "cty"),
    ("cty_committee", "party_committee", None),  # the county's Party committee, linked to it
    ("cty_xcb", "inspection_office", "cty_committee"),
    ("nb", "commission", "pref"),
    ("nb_ags", "office", "nb"),
]


def _insert(conn, table: str, **values) -> None:
    names = ", ".join(values)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + k for k in values)})"), values)


def test_existing_instances_get_their_commission(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(db, "0005_audit_chain")
        now = dt.datetime(2024, 5, 6, 10).isoformat(" ")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # no definitions needed for what is read here
            for code, kind, parent in UNITS:
                _insert(conn, "unit", code=code, name=code, kind=kind, parent_code=parent, sort=0, active=True)
            _insert(conn, "unit_link", kind="commission_committee", from_code="cty", to_code="cty_committee")
            _insert(
                conn,
                "app_user",
                id=1,
                username="nb_cm",
                display_name="x",
                active=True,
                is_admin=False,
                locale="zh_CN",
                created_at=now,
            )
            _insert(
                conn, "membership", user_id=1, unit_code="nb_ags", role_code="case_management_office", is_leader=False
            )
            # 1: tasks at the county's 案管室 and its committee's 巡察办 (one commission); 2: a task at the
            # neighbour's; 3: no task, started by a neighbour officer; 4: tasks in two commissions and no
            # starter: stays unowned; 5: already owned: kept.
            for iid, starter, owner in (
                (1, None, None),
                (2, None, None),
                (3, "nb_cm", None),
                (4, None, None),
                (5, None, "pref"),
            ):
                _insert(
                    conn,
                    "process_instance",
                    id=iid,
                    definition_id=1,
                    version_id=1,
                    process_key="p",
                    status="running",
                    state="",
                    lock_version=1,
                    started_by=starter,
                    started_at=now,
                    updated_at=now,
                    owner_unit=owner,
                    summary="{}",
                    attempts=0,
                )
            tasks = [(1, "cty_ags"), (1, "cty_xcb"), (2, "nb_ags"), (4, "cty_jc1"), (4, "nb_ags"), (5, "cty_ags")]
            for tid, (iid, unit) in enumerate(tasks, start=1):
                _insert(
                    conn,
                    "human_task",
                    id=tid,
                    instance_id=iid,
                    task_uuid=f"{tid:036d}",
                    spec_id="s",
                    process_key="p",
                    name="s",
                    status="ready",
                    created_at=now,
                    has_candidates=True,
                )
                _insert(conn, "human_task_candidate", task_id=tid, unit_code=unit)
            conn.commit()
        upgrade(db)
        with db.engine.connect() as conn:
            owners = dict(conn.execute(text("SELECT id, owner_unit FROM process_instance")).all())
        assert owners == {1: "cty", 2: "nb", 3: "nb", 4: None, 5: "pref"}
    finally:
        db.dispose()
