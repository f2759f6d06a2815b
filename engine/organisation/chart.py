"""The unit tree with its commission–committee links, read in one statement for one start.

A start finds its owning commission (the starter's unit walked up to its 纪委监委, or the commission
linked to a Party committee) and then the units of that commission where each role is held
(engine/organisation/directory.py ``commission_of``, ``roles_held``). Read unit by unit, that was four
statements per start: the starter's unit, its parent, the commission's committee links, every active
unit. The chart answers all four from one read, in the start's own transaction, so it sees the
organisation exactly as the separate reads did (nothing is kept between requests: a unit moved,
deactivated or relinked counts for the next start at once). Memberships are still read per start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, and_, select
from sqlalchemy.orm import Session

from engine.models import Unit, UnitLink

_U, _L = cast(Table, Unit.__table__), cast(Table, UnitLink.__table__)

# Built once: every unit (active or not: a parent chain may pass an inactive one, as session.get does),
# with the commission of each link naming it a committee (``commission_committee``), a row per link.
_CHART = select(_U.c.code, _U.c.parent_code, _U.c.kind, _U.c.active, _L.c.from_code).outerjoin(
    _L, and_(_L.c.to_code == _U.c.code, _L.c.kind == "commission_committee")
)


@dataclass
class Chart:
    """``units``: code -> (parent code, kind, active); ``linked``: committee code -> the commissions
    linking it, sorted."""

    units: dict[str, tuple[str | None, str, bool]] = field(default_factory=dict)
    linked: dict[str, list[str]] = field(default_factory=dict)

    def committees_of(self, commission: str) -> list[str]:
        """The units linked to ``commission`` as its same-level Party committee."""
        return sorted(to for to, commissions in self.linked.items() if commission in commissions)


def read(session: Session) -> Chart:
    chart = Chart()
    for code, parent, kind, active, linked_by in session.connection().execute(_CHART):
        chart.units[code] = (parent, kind, bool(active))
        if linked_by is not None:
            chart.linked.setdefault(code, []).append(linked_by)
    for commissions in chart.linked.values():
        commissions.sort()
    return chart
