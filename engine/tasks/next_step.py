"""The person's next step in the same case, right after he completed one (issue 15, less clicking).

After a submission the officer should land on what he has to do next in that case, not on his list of
done work: the task the completion just opened and gave him (engine/runtime/addressing.py gives a new
pool task to the person whose step opened it when he may do it), else another open task of the same
instance he already holds. Only tasks he holds are offered: what he could merely claim stays in the
inbox, where the pool's other members see it too.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask


def for_person(session: Session, username: str, instance_id: int, created: Iterable[int]) -> tuple[int, str] | None:
    """(id, name) of ``username``'s open task in ``instance_id``, the newly ``created`` ones first."""
    fresh = set(created)
    rows = session.execute(
        select(HumanTask.id, HumanTask.name)
        .where(
            HumanTask.instance_id == instance_id,
            HumanTask.status == "ready",
            HumanTask.assignee == username,
        )
        .order_by(HumanTask.id)
    ).all()
    if not rows:
        return None
    best = min(rows, key=lambda r: (r.id not in fresh, r.id))
    return best.id, best.name
