"""What probes and the operator's metrics read: readiness, and the few counts that say the service works.

Nothing here names a case: counts of tasks and instances by state, the age of the oldest timer that
should have fired (the worker's lag), messages waiting. ``/healthz`` asks the database one question (the
benchmarks' floor); ``/readyz`` checks what a request needs: the database at the schema revision of
this code, the attachment directory writable and the data key readable.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text

from engine import clock
from engine.models import HumanTask, PendingMessage, ProcessInstance
from engine.services import Services
from engine.shared import redis_status


def check(services: Services) -> dict[str, str]:
    """``{"status": "ok"}`` when the database answers; raises whatever the driver raises when it does not."""
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok"}


def readiness(services: Services) -> dict[str, str]:
    """Each condition a request needs, ``ok`` or what is wrong (never an exception: the probe reports)."""
    result: dict[str, str] = {}
    try:
        check(services)
        result["database"] = "ok"
    except Exception as exc:  # the probe must answer whatever the driver raises
        result["database"] = f"unreachable: {type(exc).__name__}"
    if result["database"] == "ok":
        result["schema"] = _schema(services)
    result["attachments"] = _writable(services)
    redis = redis_status(services.config)
    if redis is not None:
        result["redis"] = redis
    try:
        services.sealer.seal({"probe": True})
        result["keys"] = "ok"
    except Exception as exc:  # an unreadable key file, a bad key in the environment
        result["keys"] = f"unusable: {type(exc).__name__}"
    return result


def _schema(services: Services) -> str:
    from alembic.script import ScriptDirectory

    from engine.migrate import alembic_config, current

    revision = current(services.db)
    if revision is None:
        return "ok"  # a schema made by create_all (tests, benchmarks) carries no revision
    head = ScriptDirectory.from_config(alembic_config(services.db)).get_current_head()
    return "ok" if revision == head else f"at {revision}, code expects {head}: run guantong init-db"


def _writable(services: Services) -> str:
    """The attachment store takes a file now (a directory, shared or not, or an object store)."""
    try:
        return services.attachments.check_writable()
    except OSError as exc:
        return f"not writable: {exc.strerror}"


@dataclass(frozen=True)
class Figures:
    tasks_open: int
    tasks_overdue: int
    tasks_completed: int
    instances_running: int
    instances_failed: int
    messages_waiting: int
    worker_lag_seconds: float  # how long the oldest timer that should have fired has waited


def figures(services: Services) -> Figures:
    now = clock.now()
    with services.db.session() as s:
        tasks = s.execute(select(HumanTask.status, func.count()).group_by(HumanTask.status))
        by_status: dict[str, int] = {row[0]: row[1] for row in tasks}
        overdue = s.scalar(
            select(func.count()).select_from(HumanTask).where(HumanTask.status == "ready", HumanTask.due_at < now)
        )
        rows = s.execute(select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status))
        instances: dict[str, int] = {row[0]: row[1] for row in rows}
        oldest_due = s.scalar(
            select(func.min(ProcessInstance.next_timer_at)).where(
                ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now
            )
        )
        waiting = s.scalar(select(func.count()).select_from(PendingMessage).where(PendingMessage.status == "waiting"))
    lag = (now - oldest_due).total_seconds() if oldest_due is not None else 0.0
    return Figures(
        tasks_open=int(by_status.get("ready", 0)),
        tasks_overdue=int(overdue or 0),
        tasks_completed=int(by_status.get("completed", 0)),
        instances_running=int(instances.get("running", 0)),
        instances_failed=int(instances.get("error", 0)),
        messages_waiting=int(waiting or 0),
        worker_lag_seconds=max(lag, 0.0),
    )
