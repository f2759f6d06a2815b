"""A process's diagram coloured by the time its steps take (issue 16): the duration heatmap.

For one process and a period, each user task of its diagram gets the median (and 90th percentile) of
the working days and hours its completed steps took, counting the steps completed in the period of the
instances the manager's commissions own (engine/cockpit/scope.py). Working days count as deadlines
do (engine/cockpit/figures.py ``_workdays``: the working days after the day the step arrived, up to and
including the day it was completed). Only a step's own process counts: a called process has its own
diagram and its own heatmap. The diagram is the process's latest deployed version, the one a leader
knows; steps of older versions count under their element id when the element still exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.instances.diagram import definition_file
from engine.models import HumanTask, ProcessDefinition, ProcessInstance
from engine.tasks.inbox import Calendars

from .figures import Scope, _workdays, owned, percentile
from .metrics import Period


@dataclass(frozen=True)
class Cell:
    """One diagram element's figures."""

    element: str  # the BPMN element id (``human_task.spec_id``)
    name: str
    count: int
    median_workdays: float | None
    p90_workdays: float | None
    median_hours: float | None


@dataclass(frozen=True)
class Heatmap:
    process_key: str
    process_name: str
    version_id: int
    filename: str
    xml: str
    period: Period
    cells: list[Cell]  # slowest median first

    @property
    def max_median(self) -> float:
        """The largest median in working days: the top of the colour scale."""
        return max((c.median_workdays or 0.0 for c in self.cells), default=0.0)


def heatmap(session: Session, *, scope: Scope, process_key: str, period: Period) -> Heatmap:
    """The figures of ``process_key``'s steps completed in ``period`` over the scope's instances."""
    latest = session.execute(
        select(ProcessDefinition.version_id, ProcessDefinition.name)
        .where(ProcessDefinition.process_key == process_key)
        .order_by(ProcessDefinition.version_id.desc())
        .limit(1)
    ).first()
    if latest is None:
        raise ValidationError("未知的流程", fields={"process": "未知的流程"})
    filename, xml = definition_file(session, latest.version_id, process_key)
    begin, after = period.bounds()
    calendars = Calendars(session)
    samples: dict[str, tuple[str, list[float], list[float]]] = {}
    for spec_id, name, created, completed, version_id in session.execute(
        select(
            HumanTask.spec_id,
            HumanTask.name,
            HumanTask.created_at,
            HumanTask.completed_at,
            ProcessInstance.version_id,
        )
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(
            HumanTask.process_key == process_key,
            HumanTask.status == "completed",
            HumanTask.completed_at >= begin,
            HumanTask.completed_at < after,
            *owned(scope),
        )
    ):
        if created is None or completed is None:
            continue
        _, days, hours = samples.setdefault(spec_id, (name, [], []))
        days.append(float(_workdays(calendars(version_id), created, completed)))
        hours.append(max(0.0, (completed - created).total_seconds() / 3600))
    cells = []
    for spec_id, (name, days, hours) in samples.items():
        days.sort()
        hours.sort()
        median_hours = percentile(hours, 0.5)
        cells.append(
            Cell(
                element=spec_id,
                name=name,
                count=len(days),
                median_workdays=percentile(days, 0.5),
                p90_workdays=percentile(days, 0.9),
                median_hours=None if median_hours is None else round(median_hours, 1),
            )
        )
    cells.sort(key=lambda c: (-(c.median_workdays or 0), -(c.median_hours or 0), c.element))
    return Heatmap(
        process_key=process_key,
        process_name=str(latest.name or process_key),
        version_id=int(latest.version_id),
        filename=filename,
        xml=xml,
        period=period,
        cells=cells,
    )
