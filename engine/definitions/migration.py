"""Moving running instances from one deployed version to a later one (the studio's 迁移, ``guantong migrate``).

Instances stay on the version they started on (a deploy never changes a running case); a designer may
move chosen instances of one process from version N to a later version when the change matters to
cases already under way. An instance moves only when every step it is at now still exists in the new
version and can be continued there:

- every ready or waiting engine task (user tasks, timers, joins, called processes) has its BPMN id in
  the new version's process, and every called process it is inside still exists there;
- every open human task keeps its lane's role, and its form still records every ``x-process`` field the
  old form did (what later steps and gateways read from it), so what the officer submits on the new
  version is what the process needs.

Otherwise it is refused with the reason and left untouched. A dry run (``plan_migration``) lists what
would move and what is refused, and changes nothing. ``migrate`` moves each instance in its own
transaction, guarded by ``lock_version`` like every change of an instance, with an ``instance_migrated``
audit event naming both versions and the open steps.

The engine state is re-bound to the new spec with SpiffWorkflow's own migration helpers
(``SpiffWorkflow.bpmn.util.diff``: ``diff_workflow`` aligns task specs by BPMN id, ``migrate_workflow``
points the tasks at the new specs and re-predicts the ready and waiting branches), never rebuilt by
hand; the open tasks keep their ids, so their rows (assignee, due date, drafts) stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, select, update

from engine import audit, clock
from engine.access.principal import Principal
from engine.definitions.operations import require_designer
from engine.errors import Conflict, NotFound, ValidationError
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from engine.runtime import state

if TYPE_CHECKING:
    from engine.definitions.repository import LoadedVersion
    from engine.services import Services

MOVABLE = ("running", "suspended")
LIVE = TaskState.READY | TaskState.WAITING
MAX_INSTANCES = 500  # one request moves at most this many; a larger set is moved in several


@dataclass(frozen=True)
class Candidate:
    """One instance and what a move would do: ``ok`` or the reason it is refused (``code`` + text)."""

    instance_id: int
    business_key: str | None
    title: str | None
    steps: tuple[str, ...]  # the open steps (BPMN ids) it is at
    ok: bool
    code: str | None = None
    reason: str | None = None
    element: str | None = None  # the step the refusal is about


@dataclass(frozen=True)
class MigrationPlan:
    process_key: str
    from_version: int
    to_version: int
    moves: tuple[Candidate, ...]
    refused: tuple[Candidate, ...]


@dataclass(frozen=True)
class MigrationResult:
    process_key: str
    from_version: int
    to_version: int
    moved: tuple[int, ...]
    refused: tuple[Candidate, ...]


def _targets(services: Services, s: Any, process_key: str, from_version: int, to_version: int) -> int:
    """The new version's definition id of the process; refuses a move backwards or to nowhere."""
    if to_version <= from_version:
        raise ValidationError("instances move to a later version only", {"to_version": "只能迁移到更新的版本"})
    definition = s.scalar(
        select(ProcessDefinition.id).where(
            ProcessDefinition.version_id == to_version, ProcessDefinition.process_key == process_key
        )
    )
    if definition is None:
        raise NotFound(f"process {process_key} is not in version {to_version}", process=process_key, version=to_version)
    return int(definition)


def _instances(s: Any, process_key: str, from_version: int, ids: Iterable[int] | None) -> list[ProcessInstance]:
    query = select(ProcessInstance).where(
        ProcessInstance.process_key == process_key, ProcessInstance.version_id == from_version
    )
    if ids is not None:
        wanted = sorted({int(i) for i in ids})
        if len(wanted) > MAX_INSTANCES:
            raise ValidationError("too many instances at once", {"instances": f"一次最多迁移 {MAX_INSTANCES} 个"})
        query = query.where(ProcessInstance.id.in_(wanted or [0]))
    return list(s.scalars(query.order_by(ProcessInstance.id).limit(MAX_INSTANCES)))


def _form_fields(loaded: LoadedVersion, form_key: str | None) -> set[str]:
    schema = loaded.forms.get(form_key or "") or {}
    return {n for n, p in (schema.get("properties") or {}).items() if isinstance(p, dict) and p.get("x-process")}


def _live_part(row: ProcessInstance, old: LoadedVersion) -> Any:
    """The instance's workflow with only its live part: the finished history above it (kept in Guantong's
    own tables) is dropped, so a finished step the new version removed does not stay behind in the state.
    One finished task is kept above the open ones: re-predicting an open step needs its parent. The
    finished steps the runtime keeps for 退回 (state.RETURNABLE_STEPS) are dropped too: a moved instance
    can be returned only to steps done on its new version."""
    for keep_above in (0, 1):
        workflow = state.load(
            row.state, old.spec(row.process_key), old.subprocess_specs(row.process_key), old.script_engine
        )
        state.compact(workflow, keep_above=keep_above, keep_steps=0)
        trees = [workflow, *workflow.subprocesses.values()]
        if not any(wf.task_tree is not None and wf.task_tree.state & LIVE for wf in trees):
            break
    return workflow


def _check(row: ProcessInstance, old: LoadedVersion, new: LoadedVersion) -> tuple[Candidate, Any]:
    """Whether ``row`` can move, and the prepared move (diffs and workflow) when it can."""
    if row.status not in MOVABLE:
        return Candidate(
            row.id, row.business_key, row.title, (), False, "status", f"the instance is {row.status}"
        ), None
    workflow = _live_part(row, old)
    live = workflow.get_tasks(state=LIVE, max_depth=10**6)
    steps = tuple(sorted({t.task_spec.bpmn_id for t in live if t.task_spec.bpmn_id}))
    new_deps = new.subprocess_specs(row.process_key)
    top, subs = diff_workflow(state.serializer().registry, workflow, new.spec(row.process_key), new_deps)

    def refuse(code: str, reason: str, element: str | None) -> tuple[Candidate, Any]:
        return Candidate(row.id, row.business_key, row.title, steps, False, code, reason, element), None

    for sp_id, diff in subs.items():
        sub = workflow.subprocesses[sp_id]
        if diff is None and sub.get_tasks(state=LIVE):
            return refuse(
                "process_removed", f"the called process {sub.spec.name} is not in the new version", sub.spec.name
            )
    for diff in [top, *(d for d in subs.values() if d is not None)]:
        for task in diff.removed:
            bpmn = task.task_spec.bpmn_id or task.task_spec.name
            if task.state & LIVE:
                return refuse("step_removed", f"step {bpmn} it is at is not in the new version", bpmn)
        for task in diff.removed:
            bpmn = task.task_spec.bpmn_id or task.task_spec.name
            if task.id in task.workflow.tasks and not (task.state & TaskState.PREDICTED_MASK):
                return refuse(
                    "history_removed",
                    f"finished step {bpmn}, which the open steps still follow from, is not in the new version",
                    bpmn,
                )
    for task in live:
        if not task.task_spec.manual:
            continue
        process = task.workflow.spec.name
        bpmn = task.task_spec.bpmn_id
        before, after = old.task_meta(process, bpmn), new.task_meta(process, bpmn)
        if not after:
            return refuse("step_removed", f"step {bpmn} it is at is not a user task of the new version", bpmn)
        if before.get("role") != after.get("role"):
            return refuse(
                "role_changed", f"step {bpmn} moved from role {before.get('role')} to {after.get('role')}", bpmn
            )
        missing = _form_fields(old, before.get("form_key")) - _form_fields(new, after.get("form_key"))
        if missing:
            return refuse(
                "form_incompatible",
                f"the form of step {bpmn} no longer records {', '.join(sorted(missing))}",
                bpmn,
            )
    return Candidate(row.id, row.business_key, row.title, steps, True), (workflow, top, subs, new_deps)


def plan_migration(
    services: Services,
    principal: Principal,
    process_key: str,
    from_version: int,
    to_version: int,
    instance_ids: Iterable[int] | None = None,
) -> MigrationPlan:
    """The dry run: which instances of ``process_key`` on ``from_version`` would move, which are refused
    and why. Nothing changes."""
    require_designer(services, principal)
    with services.db.session() as s:
        _targets(services, s, process_key, from_version, to_version)
        rows = _instances(s, process_key, from_version, instance_ids)
        old, new = services.definitions.loaded(from_version), services.definitions.loaded(to_version)
        checked = [_check(row, old, new)[0] for row in rows]
    return MigrationPlan(
        process_key=process_key,
        from_version=from_version,
        to_version=to_version,
        moves=tuple(c for c in checked if c.ok),
        refused=tuple(c for c in checked if not c.ok),
    )


def migrate(
    services: Services,
    principal: Principal,
    process_key: str,
    from_version: int,
    to_version: int,
    instance_ids: Iterable[int],
) -> MigrationResult:
    """Move the chosen instances, each in its own transaction; a refused one is left untouched and listed."""
    require_designer(services, principal)
    ids = sorted({int(i) for i in instance_ids})
    if not ids:
        raise ValidationError("choose the instances to move", {"instances": "请选择要迁移的实例"})
    with services.db.session() as s:
        _targets(services, s, process_key, from_version, to_version)
        known = {row.id for row in _instances(s, process_key, from_version, ids)}
    moved: list[int] = []
    refused: list[Candidate] = []
    for instance_id in ids:
        if instance_id not in known:
            refused.append(
                Candidate(
                    instance_id,
                    None,
                    None,
                    (),
                    False,
                    "not_on_version",
                    f"not an instance of {process_key} on version {from_version}",
                )
            )
            continue
        outcome = _move(services, principal, instance_id, process_key, from_version, to_version)
        (moved.append(instance_id) if outcome.ok else refused.append(outcome))
    return MigrationResult(process_key, from_version, to_version, tuple(moved), tuple(refused))


def _move(
    services: Services, principal: Principal, instance_id: int, process_key: str, from_version: int, to_version: int
) -> Candidate:
    with services.db.session() as s:
        definition_id = _targets(services, s, process_key, from_version, to_version)
        row = s.get(ProcessInstance, instance_id)
        if row is None or row.version_id != from_version or row.process_key != process_key:
            return Candidate(instance_id, None, None, (), False, "not_on_version", "moved or changed meanwhile")
        old, new = services.definitions.loaded(from_version), services.definitions.loaded(to_version)
        candidate, prepared = _check(row, old, new)
        if not candidate.ok:
            return candidate
        workflow, top, subs, new_deps = prepared
        open_before = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True, max_depth=10**6)}
        migrate_workflow(top, workflow, new.spec(process_key))
        for sp_id, diff in subs.items():
            if diff is not None:
                sub = workflow.subprocesses[sp_id]
                migrate_workflow(diff, sub, new_deps[sub.spec.name])
        open_after = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True, max_depth=10**6)}
        if open_before != open_after:
            # the engine would have replaced an open step: the officer's task (assignee, draft, due date)
            # would no longer be the one he holds
            return Candidate(
                row.id, row.business_key, row.title, candidate.steps, False, "tasks_changed",
                "the open steps would not stay the same in the new version",
            )  # fmt: skip
        expected = row.lock_version
        done = cast(
            "CursorResult[Any]",
            s.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id == row.id, ProcessInstance.lock_version == expected)
                .values(
                    state=state.dump(workflow).decode(),
                    version_id=to_version,
                    definition_id=definition_id,
                    lock_version=expected + 1,
                    updated_at=clock.now(),
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if done.rowcount != 1:
            raise Conflict(f"instance {row.id} changed while it was being moved", instance=row.id)
        open_tasks = s.scalars(
            select(HumanTask.spec_id).where(HumanTask.instance_id == row.id, HumanTask.status == "ready")
        ).all()
        audit.record(
            s,
            "instance_migrated",
            actor=principal.username,
            instance_id=row.id,
            process=process_key,
            from_version=from_version,
            to_version=to_version,
            steps=list(candidate.steps),
            open_tasks=sorted(open_tasks),
        )
    return candidate
