"""Drive processes the way officers would: the ``Autopilot`` and the form filling it uses.

Plain Python on the real engine (no web framework, no test framework), kept outside the engine package
because production code never needs it. ``Autopilot`` works a process library like a room of officers:
it finds the ready human tasks, picks a person who may do each (role, candidate unit, assignee,
separation of functions), fills the task's form from its JSON Schema (plus the values it is given),
validates it exactly like the web does (``engine.forms.validate`` with the organisation's options),
splits it (``engine.forms.split``: only ``x-process`` fields reach the process data) and completes the
task. When a boundary timer is meant to fire, or nothing is left but a timer, it moves the frozen clock
past the timer and fires it. The tests in ``tests/processes`` and ``guantong demo`` (``demo.seed``)
both use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from engine import clock
from engine import forms as form_lib
from engine.access import duties
from engine.access.principal import SYSTEM_PRINCIPAL, Principal, load_principal
from engine.errors import EngineError
from engine.forms.data import check_process_data
from engine.models import HumanTask, Membership, ProcessInstance, User
from engine.numbering import sequences as numbering


# =========================================================================== filling forms
class Seq:
    """Successive values of one field: the first time it is asked, the second time, … (last one repeats)."""

    def __init__(self, *values):
        if not values:
            raise ValueError("Seq needs at least one value")
        self.values = list(values)

    def at(self, index: int):
        return self.values[min(index, len(self.values) - 1)]


class FormFillError(EngineError):
    status = 422
    code = "form_fill_error"


# What an officer would write, by what the field is called (first match wins). The demo and the
# process tests fill forms nobody gave values for with these, so records read like real ones.
_LONG_TEXTS = [
    ("摘要", "反映其在2023年草原生态保护补助奖励资金发放中优亲厚友，涉及3户、4.2万元。"),
    ("问题", "补奖资格审核把关不严，公示流于形式，群众反映强烈。"),
    ("分析", "经综合分析并适当了解，反映问题具体、可查，建议按程序处置。"),
    ("理由", "问题线索具体，具备核查条件，依据监督执纪工作规则提出处置意见。"),
    ("意见", "同意，请按程序抓紧办理。"),
    ("措施", "建立补奖资格联审机制，逐户复核并张榜公示，限期整改到位。"),
    ("结论", "反映问题部分属实，情节轻微，予以批评教育。"),
    ("情况", "已按要求完成，相关材料已归档备查。"),
    ("方案", "成立核查组，调取发放台账，走访相关农户，形成核查报告。"),
    ("说明", "本人对反映问题作如下说明：相关补奖资格经村两委集体研究确定，本人未从中谋利。"),
]
_SHORT_TEXTS = [
    ("姓名", "多吉"),
    ("单位", "县农牧水利和科技局"),
    ("职务", "草原站站长"),
    ("文号", "青湖纪办函〔2024〕12号"),
    ("台账", "TZ-2024-0156"),
    ("编号", "XS-2024-0156"),
    ("地点", "县纪委监委谈话室"),
    ("电话", "0974-8512345"),
    ("名称", "2023年度草原补奖发放台账"),
    ("人员", "王芳、郭霞"),
    ("对象", "县农牧水利和科技局"),
]


def _text_for(name: str, prop: dict) -> str:
    title = prop.get("title") or name
    table = _LONG_TEXTS if prop.get("x-widget") == "textarea" else _SHORT_TEXTS
    text = next(
        (value for key, value in table if key in title),
        "已按程序办理，材料附卷。" if prop.get("x-widget") == "textarea" else title,
    )
    if prop.get("maxLength"):
        text = text[: prop["maxLength"]]
    return text


SAMPLE_NAMES = ["卓玛", "才让", "李娜", "马海军", "索南措", "周涛"]


def sample_value(name: str, prop: dict, options: dict[str, list] | None = None) -> Any:
    """A value valid for ``prop`` when nobody said what to enter."""
    options = options or {}
    if "const" in prop:
        return prop["const"]
    if prop.get("oneOf"):
        return prop["oneOf"][0]["const"]
    if prop.get("enum"):
        return prop["enum"][0]
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in prop else 0))
        return max(low, 1) if prop.get("maximum", 10**9) >= 1 else low
    if kind == "array":
        items = prop.get("items") or {}
        count = max(int(prop.get("minItems", 1) or 1), 1)
        if options.get(name):
            return [str(v[0]) for v in options[name][:count]]
        if items.get("oneOf"):
            return [c["const"] for c in items["oneOf"][:count]]
        if items.get("type") == "object":
            return [sample_value(name, items, options) for _ in range(count)]
        if items.get("type") in ("integer", "number"):
            return list(range(1, count + 1))
        return [SAMPLE_NAMES[i % len(SAMPLE_NAMES)] for i in range(count)]
    if kind == "object":
        req = set(prop.get("required") or [])
        # a group's or row's own pickers travel among the options under dotted names (``members.user``)
        inner = {key[len(name) + 1 :]: value for key, value in options.items() if key.startswith(name + ".")}
        return {k: sample_value(k, v, inner) for k, v in (prop.get("properties") or {}).items() if k in req}
    if options.get(name):
        return str(options[name][0][0])
    fmt = prop.get("format")
    if fmt == "date":
        return clock.today().isoformat()
    if fmt == "date-time":
        return clock.local_now().replace(microsecond=0).isoformat()
    pattern = prop.get("pattern")
    if pattern == "^XS-\\d{4}-\\d{4}$":
        return "XS-2024-0156"
    if pattern == "^\\d{4}-\\d{2}$":
        return clock.today().strftime("%Y-%m")
    return _text_for(name, prop)


def fill_form(schema: dict, given: dict, options: dict[str, list] | None = None) -> dict:
    """A full submission: every required and every ``x-process`` field, given values winning."""
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    submission = {}
    for name, prop in props.items():
        if name in given:
            submission[name] = given[name]
        elif name in required or prop.get("x-process"):
            submission[name] = sample_value(name, prop, options)
    return submission


# =========================================================================== the autopilot
@dataclass
class Step:
    """One thing the autopilot did, for tests and logs."""

    kind: str  # completed | timer | stopped
    process_key: str | None = None
    spec_id: str | None = None
    task_id: int | None = None
    actor: str | None = None
    values: dict = field(default_factory=dict)
    at: dt.datetime | None = None


# The county the demo's stories happen in, and the account its intake system sends messages through.
HOME_COMMISSION = "qh_cdi"
INTAKE = "fengli"


class Autopilot:
    """Works ready tasks of a set of instances (and the instances they start) until nothing is left.

    ``values``: field name -> value (or ``Seq`` of successive values, or a callable taking the task row)
    for every form; ``per_task``: ``"spec_id"`` or ``"process_key:spec_id"`` -> {field: value} winning over
    ``values``; ``actors``: spec id -> username who does that task (otherwise the first eligible person);
    ``expire``: ids of boundary timers to let fire (the clock jumps past the task's limit instead of the
    task being done); ``stop_at``: spec ids left waiting in the inbox.
    """

    def __init__(
        self,
        runtime,
        *,
        values: dict | None = None,
        per_task: dict | None = None,
        actors: dict | None = None,
        expire: Iterable[str] = (),
        stop_at: Iterable[str] = (),
        boundary_timers: dict[tuple[str, str], list[str]] | None = None,
        sealer=None,
        clock_source: clock.FrozenClock | None = None,
        wait_timers: bool = True,
        on_step: Callable[[Step], None] | None = None,
        leave: Iterable[str] = (),
    ):
        self.runtime = runtime
        self.db = runtime.db
        self.values = dict(values or {})
        self.per_task = dict(per_task or {})
        self.actors = dict(actors or {})
        self.expire = set(expire)
        self.stop_at = set(stop_at)
        self.boundary_timers = boundary_timers if boundary_timers is not None else {}
        self.sealer = sealer
        self.clock = clock_source
        self.wait_timers = wait_timers
        self.on_step = on_step
        self.counters: dict[str, int] = {}
        self.steps: list[Step] = []
        self.roots: set[int] = set()
        self.leave = set(leave)  # processes started by messages that this run leaves to others

    # ------------------------------------------------------------------ starting
    def start(
        self,
        process_key: str,
        data: dict | None = None,
        *,
        actor: str | Principal | None = None,
        business_key: str | None = None,
    ) -> int:
        principal = self.principal(actor) if actor else SYSTEM_PRINCIPAL
        data = {**self.owner_data(process_key, principal), **(data or {})}
        outcome = self.runtime.start(process_key, actor=principal, data=data, business_key=business_key)
        self.roots.add(outcome.instance_id)
        return outcome.instance_id

    def send(self, name: str, correlation_key: str | None, payload: dict | None = None) -> dict:
        """Send a message as the demo county's intake system would, through its account (``INTAKE``): a
        message that starts a process belongs to the sender's commission, whose units the engine fills
        in (Runtime._message_owner); owner units in the payload are ignored."""
        result = self.runtime.send_message(name, correlation_key, payload or {}, actor=self.principal(INTAKE))
        if result.get("instance_id"):
            self.roots.add(result["instance_id"])
        return result

    def _loaded(self):
        with self.db.session() as session:
            latest = self.runtime.repo.latest_version_id(session)
        return self.runtime.repo.loaded(latest) if latest is not None else None

    def owner_data(self, process_key: str, principal: Principal | None = None) -> dict:
        """The owning commission's units for a new instance (engine.entry.owner_data)."""
        from engine.instances.entry import owner_data
        from engine.organisation.directory import owner_units

        loaded = self._loaded()
        if loaded is None or process_key not in loaded.catalogue:
            return {}
        with self.db.session() as session:
            found = owner_data(session, loaded, process_key, principal)
            if not found and (principal is None or principal.is_system):
                # The demo database holds three commissions (海南州 and two of its counties): what the
                # system starts without a person is 青湖县's, the county the stories are about.
                found = owner_units(session, HOME_COMMISSION, loaded.roles.roles)
            return found

    # ------------------------------------------------------------------ people
    def principal(self, who: str | Principal) -> Principal:
        if isinstance(who, Principal):
            return who
        with self.db.session() as session:
            return load_principal(session, who)

    def eligible(self, task: HumanTask, *, pool: bool = False) -> list[str]:
        """Usernames who may complete ``task`` (assignee, or role in a candidate unit), minus those its case
        keeps out (separation by actual actors, recusal: engine/access/duties.py). ``pool``: everyone in
        its role and units, even while the runtime has given it to one of them (engine/runtime/addressing.py)."""
        with self.db.session() as session:
            bars = duties.bars(session, task)
            if task.assignee and (task.personal or not pool):
                return [task.assignee] if task.assignee not in bars else []
            units = [c.unit_code for c in task.candidates]
            query = (
                select(User.username)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.role_code == task.role, User.active.is_(True))
            )
            if units:
                query = query.where(Membership.unit_code.in_(units))
            names = sorted(set(session.scalars(query)))
        return [n for n in names if n not in bars]

    def actor_for(self, task: HumanTask) -> Principal:
        wanted = self.actors.get(f"{task.process_key}:{task.spec_id}") or self.actors.get(task.spec_id)
        pool = self.eligible(task, pool=bool(wanted))
        if wanted:
            if wanted not in pool:
                raise FormFillError(
                    f"{task.process_key}/{task.spec_id}: {wanted} may not do this task (eligible: {pool})", task=task.id
                )
            return self.principal(wanted)
        if not pool:
            raise FormFillError(
                f"{task.process_key}/{task.spec_id}: nobody in the organisation may do this task "
                f"(role {task.role}, units {[c.unit_code for c in task.candidates]}, "
                f"kept apart {task.separate_from}, {task.separate_steps})",
                task=task.id,
            )
        # prefer a non-leader officer when there is one, as the work is usually done by staff
        return self.principal(pool[-1] if len(pool) > 1 else pool[0])

    # ------------------------------------------------------------------ tasks
    def scope(self) -> set[int]:
        """The root instances and every instance they started (messages, recursively)."""
        with self.db.session() as session:
            rows = session.execute(
                select(ProcessInstance.id, ProcessInstance.parent_instance_id, ProcessInstance.process_key)
            ).all()
        if not self.roots:
            return {r.id for r in rows if r.process_key not in self.leave}
        found = set(self.roots)
        changed = True
        while changed:
            changed = False
            for r in rows:
                if r.id not in found and r.parent_instance_id in found and r.process_key not in self.leave:
                    found.add(r.id)
                    changed = True
        return found

    def ready_tasks(self, spec_id: str | None = None) -> list[HumanTask]:
        scope = self.scope()
        with self.db.session() as session:
            query = select(HumanTask).where(HumanTask.status == "ready", HumanTask.instance_id.in_(scope))
            if spec_id:
                query = query.where(HumanTask.spec_id == spec_id)
            tasks = session.scalars(query.order_by(HumanTask.id)).all()
            for t in tasks:
                _ = [c.unit_code for c in t.candidates]  # load while the session is open
                session.expunge(t)
        return tasks

    def form_schema(self, task: HumanTask) -> dict:
        with self.db.session() as session:
            version_id = session.scalar(
                select(ProcessInstance.version_id).where(ProcessInstance.id == task.instance_id)
            )
        loaded = self.runtime.repo.loaded(version_id)
        return form_lib.load_schema(loaded.forms, task.form_key)

    def _given(self, task: HumanTask, extra: dict | None) -> dict:
        given: dict = {}
        sources = [
            self.values,
            self.per_task.get(task.spec_id) or {},
            self.per_task.get(f"{task.process_key}:{task.spec_id}") or {},
            extra or {},
        ]
        for source in sources:
            given.update(source)
        resolved = {}
        for name, value in given.items():
            if isinstance(value, Seq):
                key = f"{task.process_key}:{name}" if name not in (extra or {}) else name
                index = self.counters.get(key, 0)
                resolved[name] = value.at(index)
            elif callable(value):
                resolved[name] = value(task)
            else:
                resolved[name] = value
        return resolved

    def _count(self, task: HumanTask, schema: dict, used: dict) -> None:
        for name in schema.get("properties") or {}:
            if name in used and isinstance(self.values.get(name), Seq):
                key = f"{task.process_key}:{name}"
                self.counters[key] = self.counters.get(key, 0) + 1

    def submission(
        self, task: HumanTask, extra: dict | None = None, signer: str | None = None
    ) -> tuple[dict, dict, dict, dict]:
        """(process data, record, confidential, full submission) for ``task``, validated like the web."""
        schema = self.form_schema(task)
        with self.db.session() as session:
            options = form_lib.resolve_options(session, schema, instance_id=task.instance_id)
        given = {k: v for k, v in self._given(task, extra).items() if k in (schema.get("properties") or {})}
        full = fill_form(schema, given, options)
        full = form_lib.sign(schema, full, signer=signer or "系统", at=clock.now())
        errors = form_lib.validate(schema, full, options=options)
        if errors:
            raise FormFillError(
                f"{task.process_key}/{task.spec_id} ({task.form_key}): form refused: {errors}",
                task=task.id,
                fields=errors,
            )
        process_data, record, confidential = form_lib.split(schema, full)
        self._count(task, schema, given)
        return process_data, record, confidential, full

    def complete(self, task: HumanTask | int, extra: dict | None = None, *, actor: str | None = None):
        if isinstance(task, int):
            task = next(t for t in self.ready_tasks() if t.id == task)
        principal = self.principal(actor) if actor else self.actor_for(task)
        if (
            task.assignee
            and task.assignee != principal.username
            and not task.personal
            and principal.username in self.eligible(task, pool=True)
        ):
            # The runtime gave the task to someone of its pool without claiming (the person whose step
            # opened it, or its only candidate); the walk names another of the pool, so his unit's leader
            # hands it over, with the same checks (role and unit, separation, 回避) as on the page.
            self.runtime.reassign(task.id, actor=SYSTEM_PRINCIPAL, to_username=principal.username)
            task.assignee = principal.username
        process_data, record, confidential, full = self.submission(
            task, extra, signer=principal.display_name or principal.username
        )
        schema = self.form_schema(task)
        # Numbers the system issues (engine/numbering) are issued as for an officer, in the completion's
        # transaction, unless the caller gave one (a seed or a test naming its clue XS-2024-0156).
        given = self._given(task, extra)
        issue = {name for name in numbering.issued_fields(schema) if name not in given}
        sealed = self.sealer.seal(confidential) if (self.sealer and confidential) else None
        with self.db.session() as session:
            pending = self.runtime.begin_completion(session, task.id, principal)
            if issue:
                full = numbering.issue(
                    session,
                    pending.loaded.settings,
                    {**schema, "properties": {k: v for k, v in schema["properties"].items() if k in issue}},
                    {k: v for k, v in full.items() if k not in issue},
                    instance_id=task.instance_id,
                    task_id=task.id,
                    spec_id=task.spec_id,
                    actor=principal.username,
                )
                process_data, record, _confidential = form_lib.split(schema, full)
            outcome = self.runtime.finish_completion(
                session, pending, actor=principal, data=check_process_data(process_data), record=record, sealed=sealed
            )
        self.runtime.after_commit(outcome)
        step = Step("completed", task.process_key, task.spec_id, task.id, principal.username, process_data, clock.now())
        self._record(step)
        return outcome

    def _record(self, step: Step) -> None:
        self.steps.append(step)
        if self.on_step:
            self.on_step(step)

    # ------------------------------------------------------------------ timers
    def next_timer(self) -> dt.datetime | None:
        scope = self.scope()
        with self.db.session() as session:
            return session.scalar(
                select(func.min(ProcessInstance.next_timer_at)).where(
                    ProcessInstance.status == "running", ProcessInstance.id.in_(scope)
                )
            )

    def jump_to_next_timer(self) -> int:
        moment = self.next_timer()
        if moment is None:
            return 0
        if self.clock is None:
            raise FormFillError("the autopilot needs a frozen clock to let timers fire")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        if moment >= self.clock.current - dt.timedelta(seconds=1):
            self.clock.set(max(moment, self.clock.current) + dt.timedelta(seconds=1))
        fired = self.runtime.fire_due_timers()
        self._record(Step("timer", at=clock.now()))
        return fired

    # ------------------------------------------------------------------ the loop
    def run(
        self, *, until: str | Iterable[str] | Callable[[list], bool] | None = None, max_steps: int = 400
    ) -> list[Step]:
        """Work until only ``stop_at``/``until`` tasks (or nothing) are left. Returns the steps taken."""
        check = until if callable(until) else None
        targets = set() if check else ({until} if isinstance(until, str) else set(until or ()))
        taken = []
        for _ in range(max_steps):
            ready = self.ready_tasks()
            if targets and any(t.spec_id in targets for t in ready):
                return taken
            if check and check(ready):
                return taken
            work = [t for t in ready if t.spec_id not in self.stop_at and t.spec_id not in targets]
            expiring = [t for t in work if set(self.boundary_timers.get((t.process_key, t.spec_id), [])) & self.expire]
            if expiring:
                before = len(self.steps)
                if self.jump_to_next_timer() == 0 and len(self.steps) == before:
                    raise FormFillError(f"timer on {expiring[0].spec_id} did not fire")
                taken.append(self.steps[-1])
                continue
            if work:
                self.complete(work[0])
                taken.append(self.steps[-1])
                continue
            if self.wait_timers and self.next_timer() is not None and not (ready and self.stop_at):
                self.jump_to_next_timer()
                taken.append(self.steps[-1])
                continue
            return taken
        raise FormFillError(f"autopilot did not settle within {max_steps} steps")


def boundary_timer_map(bpmn_files: Iterable[Path]) -> dict[tuple[str, str], list[str]]:
    """(process id, task id) -> ids of the timer boundary events attached to that task."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    result: dict[tuple[str, str], list[str]] = {}
    for path in bpmn_files:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        for process in root.iterfind("bpmn:process", ns):
            for event in process.iterfind(".//bpmn:boundaryEvent", ns):
                if event.find("bpmn:timerEventDefinition", ns) is not None:
                    result.setdefault((process.get("id"), event.get("attachedToRef")), []).append(event.get("id"))
    return result
