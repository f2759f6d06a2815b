"""Who may put new work into Guantong: start a process by hand, or send it a message.

Starting. A process started by hand opens with a user task; whoever does that first task is the one
who starts the matter (信访室 registers a report, 案件审理室 an appeal). So a person may start a process
when they hold the role of a first user task's lane (in any unit), or are an administrator. Processes
that start on a message or a timer are not started by hand: their sender or the schedule does it.
Processes that only other processes call remain startable under the same rule; the first task's role
is still the one that would receive the work. The web pages and the JSON API both ask ``may_start``.

Owner. Every task names the unit whose members may do it (``unitVar``); the standing units of the
commission that owns the matter (its 信访室, 案管室, 书记 …, see ``owner_var`` in roles.yaml) travel in
the data from the start. ``owner_data`` gives them for a new instance: the starter's commission (the
commission of the unit where they hold the first task's role), or, with no person starting (timers, the
demo's messages), the one commission whose units hold that role. They come from the organisation only:
a client's start data naming one is refused (``refuse_owner_variables``), and a message between processes
gets its sending instance's commission's units whatever its payload says (Runtime._message_owner). The
instance's ``owner_unit`` column keeps the owning commission itself (what the cockpit's scope reads).

Messages. A message starts or continues an instance on behalf of another system (an intake system
hands a clue over, an audit bureau reports a finding), so only administrators and a configured set of
roles may send them. The set is a setting: per message name, with ``"*"`` for every other message;
``GUANTONG_MESSAGE_SENDER_ROLES`` (comma-separated) replaces the default roles for ``"*"``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from engine.access.principal import Principal
from engine.definitions.repository import DefinitionRepository, LoadedVersion
from engine.errors import Forbidden, ValidationError
from engine.models import ProcessDefinition
from engine.organisation.chart import Chart

DEFAULT_MESSAGE_SENDER_ROLES = frozenset({"case_management_office", "inspection_office", "x_department"})

_first_roles: dict[tuple[int, str], frozenset[str]] = {}
_lock = threading.Lock()


# --------------------------------------------------------------------------- starting
def first_task_roles(loaded: LoadedVersion, process_key: str) -> frozenset[str]:
    """Roles of the user tasks reached first from the process's start, through gateways and calls.

    Walks the spec graph (never instance state) and stops at each user task it meets; a call activity
    met before any user task contributes the first tasks of the process it calls. Cached per version,
    which is immutable.
    """
    key = (loaded.id, process_key)
    cached = _first_roles.get(key)
    if cached is not None:
        return cached
    roles = frozenset(_walk_first(loaded, process_key, set()))
    with _lock:
        _first_roles[key] = roles
    return roles


def _walk_first(loaded: LoadedVersion, process_key: str, seen_processes: set[str]) -> set[str]:
    if process_key in seen_processes or process_key not in loaded.catalogue:
        return set()
    seen_processes = seen_processes | {process_key}
    tasks = loaded.catalogue[process_key].get("tasks", {})
    roles: set[str] = set()
    pending = list(loaded.spec(process_key).start.outputs)
    visited: set[int] = set()
    while pending:
        spec = pending.pop()
        if id(spec) in visited:
            continue
        visited.add(id(spec))
        bpmn_id = getattr(spec, "bpmn_id", None)
        if bpmn_id in tasks:
            if tasks[bpmn_id].get("role"):
                roles.add(tasks[bpmn_id]["role"])
            continue
        called = getattr(spec, "spec", None)
        if type(spec).__name__ == "CallActivity" and isinstance(called, str):
            found = _walk_first(loaded, called, seen_processes)
            if found:
                roles |= found
                continue
        pending.extend(spec.outputs)
    return roles


def started_by_hand(definition: ProcessDefinition) -> bool:
    return bool(definition.executable) and (definition.start_kind or "none") == "none"


def may_start(principal: Principal, definition: ProcessDefinition, loaded: LoadedVersion) -> bool:
    if not started_by_hand(definition):
        return False
    if principal.is_system:
        return True
    return bool(principal.roles & first_task_roles(loaded, definition.process_key))


def require_can_start(principal: Principal, definition: ProcessDefinition, loaded: LoadedVersion) -> None:
    if not started_by_hand(definition):
        raise Forbidden(
            f"process '{definition.process_key}' starts on a {definition.start_kind}, not by hand",
            process=definition.process_key,
            start_kind=definition.start_kind,
        )
    if not may_start(principal, definition, loaded):
        raise Forbidden(
            f"only holders of {sorted(first_task_roles(loaded, definition.process_key))} "
            f"may start '{definition.process_key}'",
            process=definition.process_key,
        )


def owning_commission(
    session: Session,
    loaded: LoadedVersion,
    process_key: str,
    principal: Principal | None = None,
    chart: Chart | None = None,
) -> str | None:
    """The commission that owns a new instance of ``process_key``: the starter's (the commission of the
    units where ``principal`` holds a role of the process's first tasks, any of their units when they hold
    none); with no principal, the system, or a person of no commission (an administrator), the commission
    whose units hold that role, when exactly one does. None when no single commission is found.
    ``chart``: the units as read in this transaction (engine/organisation/chart.py), walked instead of
    read unit by unit."""
    from engine.organisation.directory import commission_of

    commissions: set[str] = set()
    if principal is not None and not principal.is_system:
        roles = first_task_roles(loaded, process_key)
        units = {u for r in roles for u in principal.units_for(r)} or principal.units
        commissions = {c for u in units if (c := commission_of(session, u, chart)) is not None}
    if not commissions:  # the system, or a person of no commission (an administrator, an outside system)
        commissions = set(owning_commissions(session, loaded, process_key))
    return commissions.pop() if len(commissions) == 1 else None


def owner_data(
    session: Session, loaded: LoadedVersion, process_key: str, principal: Principal | None = None
) -> dict[str, str | list[str]]:
    """The owner variables (``commission_unit``, ``petition_unit`` …) for a new instance of ``process_key``,
    from the organisation of its ``owning_commission``. Returns ``{}`` when no single commission is found."""
    from engine.organisation.directory import owner_units

    commission = owning_commission(session, loaded, process_key, principal)
    return {} if commission is None else owner_units(session, commission, loaded.roles.roles)


def refuse_owner_variables(
    data: Mapping[str, object], role_entries: dict[str, Any], *, what: str = "start data"
) -> None:
    """Refuse start data that names owner variables: the owning commission's units come from the
    organisation, never from a client, so a caller cannot route a matter into offices where nobody of
    its own commission may act (or out of its own commission's sight). A ValidationError names each one."""
    from engine.organisation.directory import owner_vars

    named = sorted(set(data) & set(owner_vars(role_entries)))
    if named:
        raise ValidationError(
            f"{what} names owner units ({', '.join(named)}): they come from the organisation",
            fields=dict.fromkeys(named, "承办机关的部门由组织机构决定，不能由调用方指定"),
        )


def owning_commissions(session: Session, loaded: LoadedVersion, process_key: str) -> list[str]:
    """The commissions whose units hold a role of the process's first tasks (sorted): each would own an
    instance of it. A scheduled process (月例会, 年度研判) starts once per period for each of them."""
    from sqlalchemy import select

    from engine.models import Membership, User
    from engine.organisation.directory import commission_of

    roles = first_task_roles(loaded, process_key)
    query = select(Membership.unit_code).join(User, User.id == Membership.user_id).where(User.active.is_(True))
    if roles:
        query = query.where(Membership.role_code.in_(roles))
    return sorted({c for u in set(session.scalars(query)) if (c := commission_of(session, u)) is not None})


# --------------------------------------------------------------------------- messages
def message_senders(
    environ: Mapping[str, str] | None = None, configured: Mapping[str, Iterable[str]] | None = None
) -> dict[str, frozenset[str]]:
    """Roles allowed to send each message: ``configured`` (per name, ``"*"`` for the rest) over the default."""
    environ = os.environ if environ is None else environ
    raw = environ.get("GUANTONG_MESSAGE_SENDER_ROLES")
    default = (
        frozenset(r.strip() for r in raw.split(",") if r.strip()) if raw is not None else DEFAULT_MESSAGE_SENDER_ROLES
    )
    senders = {"*": default}
    for name, roles in (configured or {}).items():
        senders[name] = frozenset(roles)
    return senders


def may_send_message(principal: Principal, name: str, senders: Mapping[str, Iterable[str]]) -> bool:
    if principal.is_system:
        return True
    allowed = senders.get(name, senders.get("*", ()))
    return bool(principal.roles & set(allowed))


def require_can_send_message(principal: Principal, name: str, senders: Mapping[str, Iterable[str]]) -> None:
    if not may_send_message(principal, name, senders):
        raise Forbidden(f"your roles may not send message '{name}'", message_name=name)


def message_is_known(session: Session, repository: DefinitionRepository, name: str) -> bool:
    """Some deployed process catches or starts on ``name``, or an instance waits for it now.

    An unknown name would otherwise sit as a pending message until it expires, which a sending system
    cannot tell from a message that merely arrived early.
    """
    from sqlalchemy import select

    from engine.models import MessageSubscription

    latest = repository.latest_version_id(session)
    if latest is not None:
        for meta in repository.loaded(latest).catalogue.values():
            if any(m.get("message") == name for m in meta.get("catch_messages", {}).values()):
                return True
    return (
        session.scalar(select(MessageSubscription.id).where(MessageSubscription.message_name == name).limit(1))
        is not None
    )
