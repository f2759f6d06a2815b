"""The people the interference register needs on top of the shared test county (tests/county.py).

The test library's roles (tests/fixtures/lib/roles.yaml) have no register office, so the county's
commission gets a 案管室 officer in the real role (``ag1``, case_management_office) and a 干部监督室
(``gb1``); a second commission (``cdi2``) has its own 案管室 (``ag2``) and 监督检查室 (``so9``); a Party
organisation outside every commission (``dz``) has a member holding an office role there (``bfr``), so
a case routed to it shows what a lane outside the commission sees (the reported person's organisation).
"""

from __future__ import annotations

from sqlalchemy import update

from engine.models import User
from engine.organisation.directory import import_organisation
from tests.county import password_hash

PEOPLE = {
    "units": [
        {"code": "gbjd", "name": "干部监督室", "kind": "office", "parent": "cdi"},
        {"code": "cdi2", "name": "邻县纪委监委", "kind": "commission"},
        {"code": "ags2", "name": "邻县案件监督管理室", "kind": "office", "parent": "cdi2"},
        {"code": "jc9", "name": "邻县第一监督检查室", "kind": "office", "parent": "cdi2"},
        {"code": "dz", "name": "某局党组", "kind": "supervised_org"},
    ],
    "users": [
        {
            "username": "ag1",
            "name": "高远",
            "roles": [{"unit": "ags", "role": "case_management_office", "leader": True}],
        },
        {"username": "gb1", "name": "宋宇", "roles": [{"unit": "gbjd", "role": "cadre_supervision_office"}]},
        {"username": "ag2", "name": "邻县案管", "roles": [{"unit": "ags2", "role": "case_management_office"}]},
        {"username": "so9", "name": "邻县监督", "roles": [{"unit": "jc9", "role": "supervision_office"}]},
        {"username": "bfr", "name": "赵某", "roles": [{"unit": "dz", "role": "supervision_office"}]},
    ],
}


def add_register_people(services) -> None:
    with services.db.session() as s:
        import_organisation(s, PEOPLE)
        s.execute(
            update(User)
            .where(User.username.in_([u["username"] for u in PEOPLE["users"]]))
            .values(password_hash=password_hash())
        )
