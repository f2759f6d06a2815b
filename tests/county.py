"""The small test county the web and API tests share, fitted to the test library (tests/fixtures/lib).

案管室 (two officers, one a leader), two 监督检查室 (第一室 with two officers and a leader, 第二室 with
one), the commission's secretary (a reveal role: sees reporter identity), a 信访室 officer with no task
in the library, a 派驻组 linked to 第一室, the three administrators of 三员分立 (``admin`` the system
administrator, ``secadmin`` and ``secadmin2`` security administrators, ``auditadmin``) and a disabled user.
"""

from __future__ import annotations

import functools
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import update

from engine.config import Config
from engine.models import User
from engine.organisation.directory import import_organisation
from engine.services import Services

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PASSWORD = "correct-horse-42"

ORGANISATION = {
    "units": [
        {"code": "cdi", "name": "测试县纪委监委", "name_en": "Test County Commission", "kind": "commission"},
        {
            "code": "ags",
            "name": "案件监督管理室",
            "name_en": "Case Management Office",
            "kind": "office",
            "parent": "cdi",
        },
        {"code": "xfs", "name": "信访室", "kind": "office", "parent": "cdi"},
        {
            "code": "jc1",
            "name": "第一监督检查室",
            "name_en": "1st Supervision Office",
            "kind": "office",
            "parent": "cdi",
        },
        {"code": "jc2", "name": "第二监督检查室", "kind": "office", "parent": "cdi"},
        {"code": "pz1", "name": "派驻第一纪检监察组", "kind": "resident_group", "parent": "cdi"},
    ],
    "links": [{"kind": "office_group", "from": "jc1", "to": "pz1"}],
    "users": [
        {"username": "admin", "name": "管理员", "admin": True, "roles": []},
        {"username": "secadmin", "name": "安全管理员", "admin": "security"},
        {"username": "secadmin2", "name": "安全管理员二", "admin": "security"},
        {"username": "auditadmin", "name": "审计管理员", "admin": "audit"},
        {"username": "cm1", "name": "冯丽", "roles": [{"unit": "ags", "role": "case_management"}]},
        {"username": "cm2", "name": "高远", "roles": [{"unit": "ags", "role": "case_management", "leader": True}]},
        {"username": "so1", "name": "刘洋", "roles": [{"unit": "jc1", "role": "supervision_office"}]},
        {"username": "so1b", "name": "张敏", "roles": [{"unit": "jc1", "role": "supervision_office"}]},
        {
            "username": "so1lead",
            "name": "赵刚",
            "roles": [{"unit": "jc1", "role": "supervision_office", "leader": True}],
        },
        {"username": "so2", "name": "王芳", "roles": [{"unit": "jc2", "role": "supervision_office"}]},
        {
            "username": "boss",
            "name": "马成志",
            "roles": [{"unit": "cdi", "role": "commission_secretary", "leader": True}],
        },
        {"username": "xf1", "name": "周静", "roles": [{"unit": "xfs", "role": "petition_office"}]},
        {"username": "gone", "name": "已停用", "active": False, "roles": [{"unit": "ags", "role": "case_management"}]},
    ],
}


@functools.lru_cache(maxsize=1)
def password_hash() -> str:
    """The shared test password hashed once per run, with argon2's smallest cost.

    argon2 verification follows the parameters written in the hash, so the application's own sign-in
    code checks it; with the production cost (64 MiB, three passes: about 0.1-0.25 s here) the suite's
    hundreds of sign-ins on two databases cost minutes of CI. The tests check who may do what, not the
    cost of a guess; tests/engine/access keeps the production hasher's own behaviour under test.
    """
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


def county_services(db, tmp_path, secret_key: str) -> Services:
    """Services on the test database with the test library deployed (by the caller) and the county imported."""
    config = Config(
        database_url=db.url,
        processes_dir=FIXTURES / "lib",
        instance_dir=tmp_path,
        secret_key=secret_key,
        attachments_dir=tmp_path / "attachments",
        embedded_worker=False,
    )
    services = Services(config, db=db)
    with db.session() as s:
        import_organisation(s, ORGANISATION)
        # Set as if each person had already replaced their initial password (tests of the forced change
        # set must_change_password themselves).
        s.execute(update(User).values(password_hash=password_hash(), must_change_password=False))
    return services


# The test county's prefecture and a neighbouring county, for the tests of a manager's commission scope
# (engine/cockpit/scope.py): 测试州纪委监委 is the test county's ``parent``; 邻县纪委监委 is its sibling, with a
# 案管室 officer (starts its clues), a 监督检查室 and a secretary (a cockpit role). ``pref_lead`` is the
# prefecture's 分管领导 (a cockpit role): his cockpit covers both counties.
NEIGHBOURS = {
    "units": [
        {"code": "pref", "name": "测试州纪委监委", "kind": "commission"},
        {
            "code": "cdi",
            "name": "测试县纪委监委",
            "name_en": "Test County Commission",
            "kind": "commission",
            "parent": "pref",
        },
        {"code": "nb_cdi", "name": "邻县纪委监委", "kind": "commission", "parent": "pref"},
        {"code": "nb_ags", "name": "邻县案件监督管理室", "kind": "office", "parent": "nb_cdi"},
        {"code": "nb_jc1", "name": "邻县第一监督检查室", "kind": "office", "parent": "nb_cdi"},
    ],
    "users": [
        {
            "username": "pref_lead",
            "name": "州分管领导",
            "roles": [{"unit": "pref", "role": "leader_in_charge", "leader": True}],
        },
        {"username": "nb_cm", "name": "邻县案管干部", "roles": [{"unit": "nb_ags", "role": "case_management"}]},
        {
            "username": "nb_so",
            "name": "邻县监督检查室主任",
            "roles": [{"unit": "nb_jc1", "role": "supervision_office", "leader": True}],
        },
        {
            "username": "nb_boss",
            "name": "邻县纪委书记",
            "roles": [{"unit": "nb_cdi", "role": "commission_secretary", "leader": True}],
        },
    ],
}


def add_neighbours(services: Services) -> None:
    """Put the test county under its prefecture and beside a neighbour (``NEIGHBOURS``), same password."""
    with services.db.session() as s:
        import_organisation(s, NEIGHBOURS)
        s.execute(
            update(User)
            .where(User.username.in_([u["username"] for u in NEIGHBOURS["users"]]))
            .values(password_hash=password_hash())
        )
