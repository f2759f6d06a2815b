"""Who may open the cockpit: holders of a cockpit role (no administrator: it lists cases, 三员分立).

The cockpit shows the metadata (stage, steps, who did what and when) of the instances a manager's
commission and the commissions under it own (``scope``), never what a step recorded, so it is for the
commission's leaders and the offices that supervise the work. The roles are a
setting (``Config.cockpit_roles``, from ``GUANTONG_COCKPIT_ROLES``); the rule is here, so the pages and the
API cannot answer the question differently.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.access.principal import Principal
from engine.config import Config
from engine.errors import Forbidden

DEFAULT_COCKPIT_ROLES = frozenset(
    {"commission_secretary", "leader_in_charge", "case_management_office", "conduct_supervision_office"}
)
# The reason recorded on the ``access_denied`` audit event, as it was before the rule moved here.
COCKPIT_ONLY = "cockpit_only"


def cockpit_roles(config: Config) -> frozenset[str]:
    """The configured cockpit roles, or the default when the deployment names none."""
    configured = config.cockpit_roles
    return DEFAULT_COCKPIT_ROLES if configured is None else frozenset(configured)


def may_use_cockpit(principal: Principal, roles: Iterable[str] = DEFAULT_COCKPIT_ROLES) -> bool:
    return bool(principal.roles & set(roles))


def require_cockpit(principal: Principal, roles: Iterable[str] = DEFAULT_COCKPIT_ROLES) -> None:
    """Refuse anyone else; the web and API handlers turn the refusal into a 403 and an audit event."""
    if not may_use_cockpit(principal, roles):
        raise Forbidden(COCKPIT_ONLY, rule=COCKPIT_ONLY)
