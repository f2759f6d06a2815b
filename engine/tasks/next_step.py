"""The person's next step in the same case, right after he completed one (issue 15, less clicking).

After a submission the officer should land on what he has to do next in that case, not on his list of
done work: the task the completion just opened and gave him (engine/runtime/addressing.py gives a new
pool task to the person whose step opened it when he may do it), else another open task of the same
instance he already holds. Only tasks he holds are offered: what he could merely claim stays in the
inbox, where the pool's other members see it too.
"""

from __future__ import annotations

from collections.abc import Iterable


def for_person(held: Iterable[tuple[int, str]], created: Iterable[int]) -> tuple[int, str] | None:
    """(id, name) of the person's next open task in the instance, the newly ``created`` ones first.

    ``held``: (id, name) of the instance's open tasks he holds once the completion is written, which the
    runtime collects as it brings the task rows in line (engine/runtime/core.py ``Outcome.held``): the
    answer costs no read of its own."""
    fresh = set(created)
    rows = list(held)
    if not rows:
        return None
    return min(rows, key=lambda r: (r[0] not in fresh, r[0]))
