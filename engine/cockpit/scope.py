"""Which instances a manager oversees: those owned by his commission and by the commissions under it.

A manager's commission is the commission (unit kind ``commission``) above the unit where he holds his
cockpit role: 案管室's director of 青湖县 oversees 青湖县纪委监委's instances, its 分管领导 too. A commission's
``parent`` is the commission one level up (engine/organisation/directory.py ``commissions_under``), so
海南州纪委监委's managers oversee 海南州's own instances and those of each of its counties; a county never
sees a neighbour's. An instance belongs to the commission in its ``owner_unit`` column, set when it
starts from the organisation (engine/instances/entry.py ``owning_commission``), never from a client.

The scope is a set of commission codes the cockpit's SQL filters ``process_instance.owner_unit`` by
(engine/cockpit/figures.py), and the one more way into an instance's metadata the need-to-know gate
knows (engine/access/visibility.py ``oversee``). ``None`` is no limit: administrators and the system
(三员分立 decides elsewhere what an administrator may read).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from engine.access.principal import Principal
from engine.organisation.directory import commission_of, commissions_under


def commission_scope(session: Session, principal: Principal, roles: Iterable[str]) -> frozenset[str] | None:
    """The commissions whose instances the person oversees through the cockpit ``roles`` they hold;
    empty for a person holding none (or holding one in a unit of no commission)."""
    if principal.is_system:
        return None
    own = {
        commission
        for role in sorted(principal.roles & set(roles))
        for unit in sorted(principal.units_for(role))
        if (commission := commission_of(session, unit)) is not None
    }
    return frozenset(commissions_under(session, own)) if own else frozenset()
