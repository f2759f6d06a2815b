"""加签 (issue 15): the approver asks one more person's opinion before he decides.

What Chinese 审批 systems call 前加签: the person holding an open approval step (a form with a conclusion
and a 批示) names a colleague whose opinion he wants, with his question; the colleague is told (a notice
naming only the step and the business key), answers with his opinion, and the approver decides with it in
front of him: the step cannot be completed while an opinion he asked for is outstanding
(engine/tasks/consultation.py), and the answers stay in the step's history.

Who may be asked: a person who reads the whole file of the case (the need-to-know gate, as for 抄送), never
an administrator or the approver himself, and one open request per person. The question and the opinion
are free text of the case, checked for its sealed values (engine/tasks/sealed_echo.py). Every request and
answer is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock, forms
from engine.access.principal import Principal, load_principal
from engine.documents.content import DECISION_FIELDS, OPINION_FIELDS
from engine.errors import Conflict, Forbidden, NotFound, ValidationError
from engine.models import HumanTask, Notification, ProcessInstance, TaskConsultation
from engine.services import Services
from engine.tasks import sealed_echo
from engine.tasks.actions import Person, _copy_candidates, _holder, _instance, _reads_file, _reason
from engine.tasks.consultation import open_consultations
from engine.tasks.operations import _visible_task, display_names


@dataclass(frozen=True)
class Opinion:
    id: int
    task_id: int
    instance_id: int
    step: str
    business_key: str | None
    asked_by: str
    asked_by_name: str
    asked: str
    asked_name: str
    question: str
    asked_at: dt.datetime
    answer: str | None
    answered_at: dt.datetime | None


def is_approval(services: Services, s: Session, task: HumanTask) -> bool:
    """An approval step: its form asks for a conclusion and a 批示 (what the 呈批表 prints as the 批示)."""
    version_id = s.scalar(select(ProcessInstance.version_id).where(ProcessInstance.id == task.instance_id))
    assert version_id is not None  # a task's instance outlives it
    schema = forms.load_schema(services.definitions.loaded(version_id).forms, task.form_key)
    names = set(schema.get("properties") or {})
    return bool(names & set(DECISION_FIELDS)) and bool(names & set(OPINION_FIELDS))


def _opinions(s: Session, rows: list[TaskConsultation]) -> list[Opinion]:
    names = display_names(s, [u for r in rows for u in (r.asked_by, r.asked)])
    tasks: dict[int, Any] = {
        t.id: t
        for t in s.execute(
            select(HumanTask.id, HumanTask.name, HumanTask.business_key).where(
                HumanTask.id.in_({r.task_id for r in rows})
            )
        )
    }
    return [
        Opinion(
            id=r.id,
            task_id=r.task_id,
            instance_id=r.instance_id,
            step=tasks[r.task_id].name,
            business_key=tasks[r.task_id].business_key,
            asked_by=r.asked_by,
            asked_by_name=names.get(r.asked_by, r.asked_by),
            asked=r.asked,
            asked_name=names.get(r.asked, r.asked),
            question=r.question,
            asked_at=r.asked_at,
            answer=r.answer,
            answered_at=r.answered_at,
        )
        for r in rows
    ]


def ask_opinion(services: Services, principal: Principal, task_id: int, to_username: str, question: str | None) -> int:
    """加签: the approver holding the step asks ``to_username``'s opinion; returns the request's id."""
    with services.db.session() as s:
        task = _holder(s, principal, task_id)
        if not is_approval(services, s, task):
            raise Forbidden("加签 is for approval steps (a conclusion and a 批示)", task=task_id, rule="not_approval")
        row = _instance(s, task.instance_id)
        wanted = (to_username or "").strip()
        if not wanted or wanted == principal.username:
            raise ValidationError(
                "choose someone else", fields={"asked": "请选择征求意见的人员（不能是本人）"}, task=task_id
            )
        try:
            person = load_principal(s, wanted)
        except NotFound:
            person = None
        if person is None or not _reads_file(services, s, person, row):
            raise ValidationError(
                f"{wanted} may not read this case", fields={"asked": f"{wanted}：无权阅知本案，不能加签"}, task=task_id
            )
        if any(c.asked == wanted for c in open_consultations(s, task_id)):
            raise Conflict(f"{wanted} has been asked already", task=task_id, rule="opinion_asked_already")
        text = _reason(question, "question")
        sealed_echo.refuse_in_notes(services, s, principal, task_id, task.instance_id, {"question": text})
        asked = TaskConsultation(
            task_id=task.id, instance_id=task.instance_id, asked_by=principal.username, asked=wanted, question=text
        )
        s.add(asked)
        s.flush()
        s.add(
            Notification(
                kind="info",
                username=wanted,
                task_id=task.id,
                instance_id=task.instance_id,
                message=f"加签：请对“{task.name}”提出意见（{task.business_key or task.instance_id}）",
            )
        )
        audit.record(
            s,
            "opinion_asked",
            actor=principal.username,
            instance_id=task.instance_id,
            task_id=task.id,
            asked=wanted,
            consultation=asked.id,
        )
        return asked.id


def give_opinion(services: Services, principal: Principal, consultation_id: int, answer: str | None) -> int:
    """The person asked gives his opinion; returns the step's task id."""
    with services.db.session() as s:
        row = s.get(TaskConsultation, consultation_id, with_for_update=True)
        if row is None or row.asked != principal.username:
            raise NotFound(f"no opinion request {consultation_id}", consultation=consultation_id)
        if row.answered_at is not None:
            raise Conflict("the opinion has been given already", consultation=consultation_id)
        task = s.get(HumanTask, row.task_id)
        if task is None or task.status != "ready":
            raise Conflict("the step has been decided", consultation=consultation_id)
        text = _reason(answer, "answer")
        sealed_echo.refuse_in_notes(services, s, principal, row.task_id, row.instance_id, {"answer": text})
        row.answer, row.answered_at = text, clock.now()
        audit.record(
            s,
            "opinion_given",
            actor=principal.username,
            instance_id=row.instance_id,
            task_id=row.task_id,
            consultation=row.id,
        )
        return row.task_id


def asked_of(services: Services, principal: Principal) -> list[Opinion]:
    """The opinions asked of the person: open ones first, then the latest answered."""
    if principal.admin_kind:  # 三员分立: administrators read no case, so no opinion is asked of them
        raise Forbidden("administrators read no case", rule="sanyuan_no_cases")
    with services.db.session() as s:
        rows = list(
            s.scalars(
                select(TaskConsultation)
                .where(TaskConsultation.asked == principal.username)
                .order_by(TaskConsultation.answered_at.is_not(None), TaskConsultation.id.desc())
                .limit(50)
            )
        )
        return _opinions(s, rows)


@dataclass(frozen=True)
class StepConsultations:
    """What the task page shows of 加签: the opinions asked on the step, and whether and whom he may ask."""

    opinions: tuple[Opinion, ...]
    may_ask: bool
    candidates: tuple[Person, ...]


def task_view(services: Services, principal: Principal, task_id: int) -> StepConsultations:
    with services.db.session() as s:
        task = _visible_task(s, principal, task_id)
        rows = list(
            s.scalars(select(TaskConsultation).where(TaskConsultation.task_id == task_id).order_by(TaskConsultation.id))
        )
        may_ask = (
            task.status == "ready"
            and task.assignee == principal.username
            and not task.personal
            and is_approval(services, s, task)
        )
        asked = {r.asked for r in rows if r.answered_at is None}
        candidates = (
            tuple(
                p
                for p in _copy_candidates(services, s, principal, _instance(s, task.instance_id))
                if p.username not in asked
            )
            if may_ask
            else ()
        )
        return StepConsultations(tuple(_opinions(s, rows)), may_ask and bool(candidates), candidates)
