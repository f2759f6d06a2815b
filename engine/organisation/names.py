"""Display names of unit and role codes, for every page's template helpers, without a query per page.

Every page shows unit and role names (the inbox, a task, the cockpit, the admin lists), so reading them
from the database on each request costs a query per page for data that changes a few times a year. They
are kept here in memory, per ``Services`` (one per process and database):

- an organisation change made through :mod:`engine.organisation.operations` calls :func:`forget`, so the
  process that made it shows the new names on its next page;
- another process (a second web worker, the ``guantong`` command, a deploy from the CLI) cannot tell this
  one, so each entry also expires after ``TTL`` seconds: a renamed unit may show its old name there for
  up to a minute.

Only names are cached. Permissions are always read fresh (the principal, per request), so a stale entry
can mislabel a unit for a minute, never open or close anything.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions.compiler import RoleCatalogue
from engine.models import DefinitionVersion, Unit
from engine.services import Services

TTL = 60.0  # seconds another process's change may take to show here

T = TypeVar("T")


@dataclass(frozen=True)
class UnitName:
    name: str
    name_en: str | None = None

    def local(self, english: bool) -> str:
        return self.name_en if english and self.name_en else self.name


class _Memo:
    """Values computed from the database, one per (Services, key), each kept for ``TTL`` seconds."""

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary[Services, dict[str, tuple[float, Any]]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, services: Services, key: str, load: Callable[[Services], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(services, {}).get(key)
        if hit is not None and now - hit[0] < TTL:
            value: T = hit[1]
            return value
        value = load(services)
        with self._lock:
            self._entries.setdefault(services, {})[key] = (now, value)
        return value

    def forget(self, services: Services) -> None:
        with self._lock:
            self._entries.pop(services, None)


_memo = _Memo()


def _load_units(services: Services) -> dict[str, UnitName]:
    with services.db.session() as s:
        return {
            code: UnitName(name, name_en)
            for code, name, name_en in s.execute(select(Unit.code, Unit.name, Unit.name_en))
        }


def read_role_catalogue(session: Session) -> dict[str, dict[str, Any]]:
    """Role code → catalogue entry of the latest deployed version, read now (for writes that check roles)."""
    raw = session.scalar(select(DefinitionVersion.roles).order_by(DefinitionVersion.id.desc()).limit(1))
    return RoleCatalogue(raw or {}).roles


def _load_roles(services: Services) -> dict[str, dict[str, Any]]:
    with services.db.session() as s:
        return read_role_catalogue(s)


def unit_names(services: Services) -> dict[str, UnitName]:
    """Unit code → its names (Chinese, English); read at most once a ``TTL`` per process."""
    return _memo.get(services, "units", _load_units)


def role_catalogue(services: Services) -> dict[str, dict[str, Any]]:
    """Role code → its catalogue entry (``zh``, ``en`` …) of the latest deployed version."""
    return _memo.get(services, "roles", _load_roles)


def role_name(entry: dict[str, Any] | None, code: str, english: bool) -> str:
    """A role's name in the page's language, falling back to Chinese, then to its code."""
    if not entry:
        return code
    return str((entry.get("en") if english else entry.get("zh")) or entry.get("zh") or entry.get("name") or code)


def forget(services: Services) -> None:
    """Drop this process's names after a change to the organisation or a deployment."""
    _memo.forget(services)
