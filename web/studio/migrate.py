"""The studio's 迁移 page: move running instances of a process to a later version.

- ``GET /studio/migrate?process=&from_version=&to_version=``: the dry run (what would move, what is
  refused and why), with a checkbox per movable instance; without the three, the form to choose them;
- ``POST /studio/migrate`` (CSRF): moves the chosen instances, each in its own transaction, and shows
  what moved and what was refused. The rules are the engine's (engine/definitions/migration.py).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from engine.definitions import migration
from engine.definitions import operations as ops

from ..security import principal, services
from .views import bp, designers_only

REFUSALS = {
    "status": lambda: _("实例不在办理中（已结束、已取消或出错）。"),
    "process_removed": lambda: _("实例所在的被调用流程在新版本中已不存在。"),
    "step_removed": lambda: _("实例当前所在的环节在新版本中已被删除。"),
    "history_removed": lambda: _("当前环节所接续的已办环节在新版本中已被删除。"),
    "role_changed": lambda: _("当前环节在新版本中改由其他角色办理。"),
    "form_incompatible": lambda: _("当前环节的表单在新版本中不再记录流程需要的字段。"),
    "tasks_changed": lambda: _("迁移后当前待办将无法保持不变。"),
    "not_on_version": lambda: _("实例已不在原版本上。"),
}


def refusal(candidate: migration.Candidate) -> str:
    said = REFUSALS.get(candidate.code or "")
    return said() if said else candidate.reason or ""


def _versions() -> tuple[str, int | None, int | None]:
    source = request.form if request.method == "POST" else request.args
    process = (source.get("process") or "").strip()[:120]
    return process, source.get("from_version", type=int), source.get("to_version", type=int)


@bp.get("/migrate")
@designers_only
def migrate_plan():
    process, from_version, to_version = _versions()
    overview = ops.list_versions(services(), principal())
    plan = None
    if process and from_version is not None and to_version is not None:
        plan = migration.plan_migration(services(), principal(), process, from_version, to_version)
    return render_template(
        "studio/migrate.html",
        overview=overview,
        process=process,
        from_version=from_version,
        to_version=to_version if to_version is not None else overview.latest,
        plan=plan,
        result=None,
        refusal=refusal,
    )


@bp.post("/migrate")
@designers_only
def migrate_apply():
    process, from_version, to_version = _versions()
    chosen: list[Any] = list(request.form.getlist("instance", type=int))
    result = migration.migrate(services(), principal(), process, from_version or 0, to_version or 0, chosen)
    return render_template(
        "studio/migrate.html",
        overview=ops.list_versions(services(), principal()),
        process=process,
        from_version=from_version,
        to_version=to_version,
        plan=None,
        result=result,
        refusal=refusal,
    )
