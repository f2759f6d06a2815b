"""Facts known to the case are not asked again (issue 15): "对象为下一级党委主要负责人" was asked four times
on one clue, and the 谈话人 picked in the plan were typed again in the 谈话记录.

A form field marked ``"x-ask-once": true`` takes, when the step's form is opened, the value the case's
latest earlier record of the same field holds (prefilled, so the officer sees it and may correct it), and
a submission that leaves it out (an API client, a page whose officer did not touch it) is completed with
that value before validation, so the field is not required again. Only records the person may read
count (the need-to-know gate, engine/access/need_to_know.py): a fact he may not read is asked, never
shown. Confidential fields are never records, so never facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access.need_to_know import ReadScope
from engine.models import TaskSubmission

RULE = "x-ask-once"


def asked_once(schema: Mapping[str, Any]) -> list[str]:
    """The form's fields that take a fact the case already knows."""
    return [name for name, prop in (schema.get("properties") or {}).items() if prop.get(RULE)]


def latest(names: Iterable[str], records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The value of each of ``names`` in the first of ``records`` (newest first) that holds one."""
    wanted = list(names)
    found: dict[str, Any] = {}
    for record in records:
        for name in wanted:
            if name not in found and record.get(name) not in (None, "", []):
                found[name] = record[name]
    return found


def facts(
    session: Session, schema: Mapping[str, Any], instance_id: int, scope: ReadScope, *, before: int | None = None
) -> dict[str, Any]:
    """The known facts for ``schema``'s ``x-ask-once`` fields from the instance's final records the person
    may read (``scope``), newest first; ``before``: only records of tasks older than that one."""
    names = asked_once(schema)
    if not names:
        return {}
    query = select(TaskSubmission.task_id, TaskSubmission.submitted_by, TaskSubmission.data).where(
        TaskSubmission.instance_id == instance_id, TaskSubmission.kind == "final"
    )
    if before is not None:
        query = query.where(TaskSubmission.task_id < before)
    readable = []
    for task_id, author, data in session.execute(query.order_by(TaskSubmission.id.desc())):
        allowed = scope.fields(task_id, author)
        record = data or {}
        if allowed is None or allowed is True:
            readable.append(record)
        elif allowed is not False:
            readable.append({k: v for k, v in record.items() if k in allowed})
    return latest(names, readable)
