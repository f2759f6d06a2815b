"""Which step records, which of their fields and which attachments a person may read of one instance.

Need-to-know (知悉范围, regulations §6.4) is declared in the process library: each role says in
roles.yaml whether its tasks read the whole ``file`` of the instances they work on (the handling
commission's offices and leaders, the Party committee bodies that approve the work) or only what is
``addressed`` to them (被反映人, 被监督党组织, X职能部门 …); a task in an addressed lane declares what it
reads (``reads``: earlier steps or ``step.field``; ``readsFiles``: whose uploads), and deploy checks the
names (engine/definitions/compiler.py). This module is the one place that turns those declarations, the
instance's tasks and the person into a :class:`ReadScope`; every view of step records and attachments
(the task page, the instance page, the API, downloads) asks it, then hands what it admits to
``engine.access.reveal.read_records`` (sealed fields stay sealed for everyone without a reveal role).

The rules, for a person and an instance:
- a task of a ``file`` lane the person can see (``authz.can_see``: assignee, completer, the role in a
  candidate unit, leader of one) opens the whole file, as before this rule;
- a task of an ``addressed`` lane opens its declared records, fields and uploads only while it is ready
  and only to whom it is addressed: its assignee, or, while nobody holds it, the holders of its role in
  its units ("access given for a joint task ends when the task ends");
- a record the person wrote, and a file the person uploaded, stay readable to them.
An administrator and the system read the whole file (``visibility.instance_data_clause``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from engine.access.authz import TaskView, can_see, in_pool
from engine.access.principal import Principal
from engine.models import HumanTask

READS_FILE, READS_ADDRESSED = "file", "addressed"

# (process id, step id) -> the task's metadata as deployed (``LoadedVersion.task_meta``)
TaskMeta = Callable[[str, str], Mapping[str, Any]]


@dataclass(frozen=True)
class ReadScope:
    """What one person may read of one instance's records and attachments.

    ``whole``: the whole file. Otherwise ``records`` maps a task id to the fields of its record the
    person may read (None: the whole record), ``uploads_of`` names the tasks whose attachments they
    may open; their own records and uploads are always theirs."""

    reader: str
    whole: bool = False
    records: Mapping[int, frozenset[str] | None] = field(default_factory=dict)
    uploads_of: frozenset[int] = frozenset()

    @property
    def kind(self) -> str:
        """``file`` | ``addressed`` (some records or files) | ``none``, as the API names it."""
        if self.whole:
            return READS_FILE
        return READS_ADDRESSED if self.records or self.uploads_of else "none"

    def fields(self, task_id: int, submitted_by: str | None) -> frozenset[str] | bool | None:
        """False when the record is not readable; None for the whole record; else its readable fields."""
        if self.whole or (submitted_by is not None and submitted_by == self.reader):
            return None
        if task_id not in self.records:
            return False
        return self.records[task_id]

    def may_read(self, task_id: int, submitted_by: str | None) -> bool:
        return self.fields(task_id, submitted_by) is not False

    def may_open_file(self, task_id: int | None, uploaded_by: str | None) -> bool:
        if self.whole or (uploaded_by is not None and uploaded_by == self.reader):
            return True
        return task_id is not None and task_id in self.uploads_of


def whole_file(principal: Principal) -> ReadScope:
    return ReadScope(reader=principal.username, whole=True)


def _addressed_to(principal: Principal, task: TaskView) -> bool:
    """The person to whom an open addressed task speaks: its assignee, or while nobody holds it, those
    who could take it (not one kept apart from it)."""
    if task.status != "ready":
        return False
    if task.assignee:
        return bool(task.assignee == principal.username)
    return in_pool(principal, task) and principal.username not in (task.separate_from or [])


def scope_of(
    principal: Principal, tasks: Iterable[TaskView], task_meta: TaskMeta, *, default_scope: Callable[[str | None], str]
) -> ReadScope:
    """The rule above over already loaded tasks (with their candidates) of one instance."""
    if principal.is_system:
        return whole_file(principal)
    rows = list(tasks)
    by_step: dict[tuple[str, str], list[int]] = {}
    for t in rows:
        by_step.setdefault((t.process_key, t.spec_id), []).append(t.id)
    records: dict[int, frozenset[str] | None] = {}
    uploads: set[int] = set()
    for t in rows:
        if not can_see(principal, t):
            continue
        meta = task_meta(t.process_key, t.spec_id)
        scope = meta.get("reads_scope") or default_scope(t.role)
        if scope != READS_ADDRESSED:
            return whole_file(principal)
        if not _addressed_to(principal, t):
            continue
        for step, names in (meta.get("reads") or {}).items():
            for target in by_step.get((t.process_key, step), []):
                if names is None or records.get(target, frozenset()) is None:
                    records[target] = None
                else:
                    records[target] = frozenset(names) | (records.get(target) or frozenset())
        for step in meta.get("reads_files") or []:
            uploads.update(by_step.get((t.process_key, step), []))
    return ReadScope(reader=principal.username, records=records, uploads_of=frozenset(uploads))


def read_scope(
    session: Session,
    principal: Principal,
    instance_id: int,
    task_meta: TaskMeta,
    *,
    default_scope: Callable[[str | None], str] = lambda role: READS_FILE,
    tasks: Sequence[TaskView] | None = None,
) -> ReadScope:
    """What the person may read of the instance: its tasks read in one query (with their candidate
    units), judged by :func:`scope_of`. ``task_meta`` is the instance's deployed version's
    (``LoadedVersion.task_meta``); ``default_scope`` gives a role's scope for versions deployed before
    tasks carried one (``LoadedVersion.roles.reads``). ``tasks``: every task row of the instance, when
    the caller has read them already (the instance detail lists them), so they are not read twice."""
    if principal.is_system:
        return whole_file(principal)
    if tasks is None:
        tasks = session.scalars(_INSTANCE_TASKS, {"instance_id": instance_id}).all()
    return scope_of(principal, tasks, task_meta, default_scope=default_scope)


# Built once: every task page, instance page and document asks it (built per call, 0.2 ms of SQLAlchemy).
_INSTANCE_TASKS = (
    select(HumanTask)
    .where(HumanTask.instance_id == bindparam("instance_id"))
    .options(selectinload(HumanTask.candidates))
)


def trim(data: Mapping[str, Any], names: frozenset[str] | None) -> dict[str, Any]:
    """A record cut to the fields the reader may see (all of them for None)."""
    if names is None:
        return dict(data)
    return {k: v for k, v in data.items() if k in names}


def trim_schema(schema: Mapping[str, Any], names: frozenset[str] | None) -> dict[str, Any]:
    """A form schema showing only the readable fields, so a page lists no empty lines for the others."""
    if names is None:
        return dict(schema)
    props = {k: v for k, v in (schema.get("properties") or {}).items() if k in names}
    required = [k for k in schema.get("required") or [] if k in names]
    return {**schema, "properties": props, "required": required}
