"""What the studio's properties panel offers to choose from, read from one deployed version.

The panel writes exactly the ``spiffworkflow:properties`` the compiler reads (processes/CONVENTIONS.md);
a free-typed form key, deadline or lane name is the commonest deploy refusal, so the panel lists the
version's forms (with the fields each copies into the process data), the ``deadlines`` and
``schedules`` of settings.yaml (with their duration and the rule they quote), the roles of roles.yaml
and the unit variables the library already uses. Plain data only: the page embeds it as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.access.principal import Principal
from engine.definitions.compiler import MECHANISMS, PLATFORMS, STAGES
from engine.definitions.operations import require_designer
from engine.errors import NotFound
from engine.models import DefinitionVersion

if TYPE_CHECKING:
    from engine.services import Services

_UNITS = {"workdays": "working days", "months": "months", "days": "days"}


@dataclass(frozen=True)
class PanelChoices:
    version: int
    forms: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]
    schedules: list[dict[str, Any]]
    roles: list[dict[str, Any]]
    unit_vars: list[str]
    messages: list[str]
    stages: list[str]
    mechanisms: list[str]
    platforms: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "forms": self.forms,
            "deadlines": self.deadlines,
            "schedules": self.schedules,
            "roles": self.roles,
            "unitVars": self.unit_vars,
            "messages": self.messages,
            "stages": self.stages,
            "mechanisms": self.mechanisms,
            "platforms": self.platforms,
        }


def choices(services: Services, principal: Principal, version_id: int) -> PanelChoices:
    """The choices of version ``version_id`` (designers only, as every studio read)."""
    require_designer(services, principal)
    with services.db.session() as s:
        row = s.execute(
            select(
                DefinitionVersion.forms,
                DefinitionVersion.roles,
                DefinitionVersion.settings,
                DefinitionVersion.catalogue,
            ).where(DefinitionVersion.id == version_id)
        ).one_or_none()
    if row is None:
        raise NotFound(f"definition version {version_id} not found", version=version_id)
    forms, roles, settings, catalogue = (value or {} for value in row)
    return PanelChoices(
        version=version_id,
        forms=[_form(key, schema) for key, schema in sorted(forms.items())],
        deadlines=[_deadline(key, entry) for key, entry in sorted((settings.get("deadlines") or {}).items())],
        schedules=[
            {"key": key, "description": (entry or {}).get("description") or "", "basis": (entry or {}).get("basis")}
            for key, entry in sorted((settings.get("schedules") or {}).items())
        ],
        roles=_roles(roles),
        unit_vars=_unit_vars(roles, catalogue),
        messages=sorted(
            {
                str(m["message"])
                for meta in catalogue.values()
                for kind in ("catch_messages", "throw_messages")
                for m in (meta.get(kind) or {}).values()
                if m.get("message")
            }
        ),
        stages=sorted(STAGES, key=["goal", "discover", "dispose", "rectify"].index),
        mechanisms=sorted(MECHANISMS),
        platforms=sorted(PLATFORMS, key=lambda p: ("PLM".index(p[0]), p)),
    )


def _form(key: str, schema: Any) -> dict[str, Any]:
    props = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
    return {
        "key": key,
        "title": schema.get("title") if isinstance(schema, dict) else None,
        "fields": [
            {"name": name, "title": (p or {}).get("title") or name, "process": bool((p or {}).get("x-process"))}
            for name, p in props.items()
        ],
    }


def _deadline(key: str, entry: Any) -> dict[str, Any]:
    entry = entry if isinstance(entry, dict) else {}
    length = next(({"unit": unit, "n": entry[unit]} for unit in _UNITS if unit in entry), None)
    return {
        "key": key,
        "length": length,
        "basis": entry.get("basis"),
        "escalate_to": entry.get("escalate_to"),
        "local_practice": bool(entry.get("local_practice")),
    }


def _roles(raw: Any) -> list[dict[str, Any]]:
    entries = raw.get("roles", raw) if isinstance(raw, dict) else raw
    if isinstance(entries, dict):
        entries = [{"code": code, **(value or {})} for code, value in entries.items()]
    return [
        {
            "code": str(e["code"]),
            "name": e.get("zh") or e.get("name") or e["code"],
            "owner_var": e.get("owner_var"),
            "reads": e.get("reads"),
        }
        for e in entries or []
        if isinstance(e, dict) and "code" in e
    ]


def _unit_vars(roles: Any, catalogue: dict[str, Any]) -> list[str]:
    """The owner variables of the roles, then every ``unitVar`` a deployed task already names."""
    found = {r["owner_var"] for r in _roles(roles) if r["owner_var"]}
    for meta in catalogue.values():
        for task in (meta.get("tasks") or {}).values():
            if task.get("unit_var"):
                found.add(str(task["unit_var"]))
    return sorted(found)
