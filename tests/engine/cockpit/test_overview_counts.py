"""``figures.overview`` counts in two statements (issue 16): the same figures as one query per figure.

The reference below is the overview as it was computed before: statuses, the running instances'
breakdowns, the overdue tasks and the running instances holding one, each by its own query.
"""

from __future__ import annotations

from sqlalchemy import exists, func, select

from engine import clock
from engine.cockpit import figures
from engine.models import HumanTask, ProcessDefinition, ProcessInstance


def one_query_per_figure(session, scope, now) -> dict:
    mine = figures.owned(scope)
    breakdown = session.execute(
        select(ProcessDefinition.mechanism, ProcessDefinition.platform, ProcessInstance.stage, func.count())
        .join(ProcessDefinition, ProcessDefinition.id == ProcessInstance.definition_id)
        .where(ProcessInstance.status == "running", *mine)
        .group_by(ProcessDefinition.mechanism, ProcessDefinition.platform, ProcessInstance.stage)
    ).all()
    by_stage: dict[str, int] = {}
    for _, _, stage, n in breakdown:
        by_stage[stage or ""] = by_stage.get(stage or "", 0) + n
    late = select(HumanTask.id).where(
        HumanTask.instance_id == ProcessInstance.id, HumanTask.status == "ready", HumanTask.due_at < now
    )
    tasks = select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready", HumanTask.due_at < now)
    if scope is not None:
        tasks = tasks.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(*mine)
    return {
        "by_stage": by_stage,
        "statuses": dict(
            session.execute(
                select(ProcessInstance.status, func.count()).where(*mine).group_by(ProcessInstance.status)
            ).all()
        ),
        "overdue_tasks": session.scalar(tasks),
        "overdue_instances": session.scalar(
            select(func.count())
            .select_from(ProcessInstance)
            .where(ProcessInstance.status == "running", exists(late), *mine)
        ),
    }


def test_the_overview_counts_what_one_query_per_figure_counts(services, who, seeded):
    services.runtime.suspend(seeded.instances["A"], actor=who("boss"))  # late, but no longer running
    now = clock.now()
    with services.db.session() as s:
        units = sorted({u for (u,) in s.execute(select(ProcessInstance.owner_unit).distinct()) if u})
        assert units
        for scope in (None, frozenset(units), frozenset(units[:1]), frozenset({"nowhere"})):
            got = figures.overview(s, scope=scope, now=now)
            want = one_query_per_figure(s, scope, now)
            assert {k: getattr(got, k) for k in want} == want, scope
            assert got.running == want["statuses"].get("running", 0)
            if scope is None:
                assert (got.overdue_tasks, got.overdue_instances) == (1, 0)  # A is late and suspended
    assert got.overdue_tasks == 0 and got.statuses == {}
