"""The cockpit's figures kept as snapshots the worker refreshes (issue 16, "fast at province scale").

Why snapshots, and why refreshed by the worker rather than summary rows kept in each step's transaction:
the pages take arbitrary periods, baselines, slices and processes, and show medians and 90th percentiles.
Percentiles are not additive: no running total kept per step answers "the median over 3 March – 17 May
sliced by platform" without the observations themselves. Counts would be additive, but keeping counts one
way and percentiles another would let two numbers of one page come from two moments; one mechanism for
every page keeps each page's figures consistent with each other. So a page's whole figure set (the frozen
dataclasses figures.py, metrics.py and heatmap.py return) is stored as one row per (kind, scope, cleaned
query), and a page reads that row instead of scanning history.

The price is staleness, bounded and shown: the worker (engine/scheduling/worker.py) recomputes every
snapshot read within ``snapshot_read_days`` once it is older than ``snapshot_refresh_minutes``, oldest
first, at most ``snapshot_pass_limit`` per pass and none started after ``snapshot_pass_seconds`` (a pass
never becomes unbounded work), and deletes those nobody read for ``snapshot_keep_days``. Every page says
when its figures were computed (``Dated.computed_at``) and offers 刷新, which recomputes at once, though
never a snapshot younger than ``snapshot_min_age_seconds`` (the button is not a lever for unbounded work:
whoever presses it, one (kind, scope, query) is recomputed at most once per that many seconds; a query
nobody asked for yet is computed live anyway, like any first visit). The worker also computes each
cockpit role holder's default pages ahead (``precompute_defaults``) so the first visit is fast.

Need-to-know: a snapshot is found only by the scope the use case computed for the principal
(engine/cockpit/scope.py), stored whole beside its hash and compared on every read, so a county's
manager never receives the prefecture's figures, nor the reverse. Authorization happens before any read.

A payload is JSON written by ``encode`` and read by ``decode`` along the dataclasses' type hints; it
carries ``FORMAT_VERSION``, and a row of another version is treated as absent (recomputed, overwritten),
so a changed dataclass never reads an old payload wrongly. Bump ``FORMAT_VERSION`` whenever a dataclass
of figures.py, metrics.py or heatmap.py changes shape.

A field typed ``LazyList[X]`` (engine/cockpit/lazy.py) is written as its length and its items' JSON as one
string, and read back undecoded: a page decodes only the items it shows (the deadline groups' tasks, up to
2000, of which the front page shows 100).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import time
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import clock
from engine.access.principal import load_principal
from engine.config import Config
from engine.db import Database
from engine.errors import EngineError
from engine.models import CockpitSnapshot, Membership, User
from engine.tasks.inbox import DUE_SOON_WORKDAYS

from . import figures, heatmap, metrics
from .access import cockpit_roles
from .lazy import LazyList
from .scope import commission_scope

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: the deadline groups' items as a LazyList (issue 16)
KINDS = ("overview", "deadlines", "durations", "metrics", "heatmap")
READ_MARK_EVERY = dt.timedelta(hours=1)  # how precisely ``last_read_at`` follows the reads
DEFAULT_SAMPLE_LIMIT = 20000  # the durations page's sample (web config DURATION_SAMPLE_LIMIT)
Scope = Collection[str] | None
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Dated(Generic[T]):
    """A page's figures and when they were computed; ``from_snapshot``: read from a stored snapshot."""

    data: T
    computed_at: dt.datetime
    from_snapshot: bool
    compute_ms: int = 0

    def age_minutes(self, now: dt.datetime | None = None) -> int:
        return max(0, int(((now or clock.now()) - self.computed_at).total_seconds() // 60))


# --------------------------------------------------------------------------- the payload
def encode(value: Any) -> Any:
    """A frozen dataclass (and what it holds) as plain JSON; mappings become [key, value] pairs, so
    tuple keys and the order of the keys survive."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, LazyList):  # [length, the items' JSON as one string]: read only as far as shown
        return [len(value), value.source() or _json([encode(v) for v in value])]
    if isinstance(value, Mapping):
        return [[encode(k), encode(v)] for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} in a snapshot")


def decode(kind: Any, raw: Any) -> Any:
    """``raw`` (from ``encode``) as a value of the type ``kind`` (a dataclass or a type hint)."""
    return reader(kind)(raw)


@functools.cache
def reader(kind: Any) -> Callable[[Any], Any]:
    """The function that reads a value of type ``kind``, built once per type from its hints (reading the
    hints for every value would cost more than the figures' JSON itself)."""
    if kind is Any:
        return _same
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        arm = reader(next(a for a in args if a is not type(None)))
        return lambda raw: None if raw is None else arm(raw)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        cls: Any = kind
        fields = [(f.name, reader(hints[f.name])) for f in dataclasses.fields(kind) if f.init]
        return lambda raw: cls(**{name: read(raw[name]) for name, read in fields})
    if origin in (dict, Mapping) or kind is dict:
        key, value = (reader(a) for a in (args or (Any, Any)))
        return lambda raw: {key(k): value(v) for k, v in raw}
    if origin is LazyList:
        build = reader(args[0])
        return lambda raw: LazyList.from_json(raw[0], raw[1], build)
    if origin is list:
        item = reader(args[0])
        return lambda raw: [item(v) for v in raw]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            each = reader(args[0])
            return lambda raw: tuple(each(v) for v in raw)
        parts = [reader(a) for a in args]
        return lambda raw: tuple(read(v) for read, v in zip(parts, raw, strict=True))
    if kind is dt.datetime:
        return dt.datetime.fromisoformat
    if kind is dt.date:
        return dt.date.fromisoformat
    if kind in (int, float, str, bool):
        plain: Callable[[Any], Any] = kind
        return plain
    raise TypeError(f"cannot read a {kind!r} from a snapshot")


def _same(raw: Any) -> Any:
    return raw


RESULT_TYPES: dict[str, type] = {
    "overview": figures.Overview,
    "deadlines": figures.Deadlines,
    "durations": figures.Durations,
    "metrics": metrics.Metrics,
    "heatmap": heatmap.Heatmap,
}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dumps(kind: str, value: Any) -> str:
    return _json(encode(value))


def loads(kind: str, text: str) -> Any:
    return decode(RESULT_TYPES[kind], json.loads(text))


# --------------------------------------------------------------------------- the key
def scope_text(scope: Scope) -> str:
    """The scope as stored: ``all`` for no limit, else the sorted commission codes (``-`` for none)."""
    if scope is None:
        return "all"
    return json.dumps(sorted(scope), ensure_ascii=False, separators=(",", ":"))


def scope_from_text(text: str) -> Scope:
    return None if text == "all" else frozenset(json.loads(text))


def params_text(params: Mapping[str, Any]) -> str:
    """The cleaned query as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(dict(params), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- computing a figure set
def _overview(s: Session, scope: Scope, p: Mapping[str, Any]) -> Any:
    data = figures.overview(s, scope=scope)
    due = figures.deadlines(s, soon_workdays=int(p["soon"]), scope=scope)
    return dataclasses.replace(data, due_soon=due.totals["due_soon"])


def _deadlines(s: Session, scope: Scope, p: Mapping[str, Any]) -> Any:
    data = figures.deadlines(s, soon_workdays=int(p["soon"]), scope=scope)
    return dataclasses.replace(data, escalations=figures.escalations(s, scope=scope))


def _durations(s: Session, scope: Scope, p: Mapping[str, Any]) -> Any:
    return figures.durations(
        s, process_key=p["process"], scope=scope, sample_limit=int(p["sample"]), choices=figures.process_choices(s)
    )


def metrics_query(p: Mapping[str, Any]) -> metrics.MetricsQuery:
    return metrics.MetricsQuery.parse(
        date_from=p["date_from"],
        date_to=p["date_to"],
        base_from=p.get("base_from"),
        base_to=p.get("base_to"),
        slice_by=p["slice"],
    )


def _metrics(s: Session, scope: Scope, p: Mapping[str, Any]) -> Any:
    return metrics.compute(s, scope=scope, query=metrics_query(p))


def _heatmap(s: Session, scope: Scope, p: Mapping[str, Any]) -> Any:
    period = metrics.Period(dt.date.fromisoformat(p["date_from"]), dt.date.fromisoformat(p["date_to"]))
    return heatmap.heatmap(s, scope=scope, process_key=p["process"], period=period)


COMPUTE: dict[str, Callable[[Session, Scope, Mapping[str, Any]], Any]] = {
    "overview": _overview,
    "deadlines": _deadlines,
    "durations": _durations,
    "metrics": _metrics,
    "heatmap": _heatmap,
}


def default_params(today: dt.date | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The pages a manager opens first, with the parameters the pages use when given none."""
    return [
        ("overview", {"soon": DUE_SOON_WORKDAYS}),
        ("deadlines", {"soon": DUE_SOON_WORKDAYS}),
        ("durations", {"process": None, "sample": DEFAULT_SAMPLE_LIMIT}),
        ("metrics", metrics.MetricsQuery.parse(today=today).params()),
    ]


# --------------------------------------------------------------------------- reading and writing
def find(s: Session, kind: str, scope: Scope, params: Mapping[str, Any]) -> CockpitSnapshot | None:
    """The stored snapshot of exactly this scope and query, of this format; None otherwise."""
    text = scope_text(scope)
    row = s.scalar(
        select(CockpitSnapshot).where(
            CockpitSnapshot.kind == kind,
            CockpitSnapshot.scope_hash == _hash(text),
            CockpitSnapshot.params == params_text(params),
        )
    )
    if row is None or row.scope != text or row.version != FORMAT_VERSION:
        return None
    return row


def compute_and_store(db: Database, kind: str, scope: Scope, params: Mapping[str, Any], *, read: bool) -> Dated[Any]:
    """Compute a figure set live, in its own transaction, and keep it (``read``: a person asked for it)."""
    started = time.perf_counter()
    with db.session() as s:
        data = COMPUTE[kind](s, scope, params)
    at = clock.now()
    took = int((time.perf_counter() - started) * 1000)
    store(db, kind, scope, params, data, computed_at=at, compute_ms=took, read=read)
    return Dated(data, at, from_snapshot=False, compute_ms=took)


def store(
    db: Database,
    kind: str,
    scope: Scope,
    params: Mapping[str, Any],
    data: Any,
    *,
    computed_at: dt.datetime,
    compute_ms: int,
    read: bool,
) -> None:
    """Insert or overwrite the snapshot; another writer's concurrent insert of the same key wins the race
    harmlessly (it holds figures as new as these), so the page is never failed by the store."""
    text, key = scope_text(scope), params_text(params)
    values: dict[str, Any] = dict(
        scope=text, version=FORMAT_VERSION, payload=dumps(kind, data), computed_at=computed_at, compute_ms=compute_ms
    )
    if read:
        values["last_read_at"] = computed_at
    where = (CockpitSnapshot.kind == kind, CockpitSnapshot.scope_hash == _hash(text), CockpitSnapshot.params == key)
    try:
        with db.session() as s:
            if not s.execute(update(CockpitSnapshot).where(*where).values(**values)).rowcount:  # type: ignore[attr-defined]
                s.add(CockpitSnapshot(kind=kind, scope_hash=_hash(text), params=key, created_at=computed_at, **values))
    except IntegrityError:
        log.info("cockpit snapshot %s stored concurrently by another writer", kind)


KIND_OF: dict[type, str] = {result: kind for kind, result in RESULT_TYPES.items()}


def read_as(
    db: Database,
    config: Config,
    result: type[T],
    scope: Scope,
    params: Mapping[str, Any],
    *,
    fresh: bool = False,
) -> Dated[T]:
    """``read`` for the figure set whose type is ``result``, typed: the kind is found from the type, and
    the value read back (stored JSON, or a live computation) is checked to be one, so a snapshot that no
    longer matches its page's type fails here rather than in a template."""
    found = read(db, config, KIND_OF[result], scope, params, fresh=fresh)
    data = found.data
    if not isinstance(data, result):
        raise TypeError(f"the {KIND_OF[result]} snapshot holds a {type(data).__name__}, not a {result.__name__}")
    return Dated(data, found.computed_at, found.from_snapshot, found.compute_ms)


def read(
    db: Database,
    config: Config,
    kind: str,
    scope: Scope,
    params: Mapping[str, Any],
    *,
    fresh: bool = False,
) -> Dated[Any]:
    """The figures for an authorized principal's ``scope``: the snapshot when there is one (however old:
    its age is shown, and the worker refreshes it), else computed live and stored. ``fresh``: recompute
    now, unless the snapshot is younger than ``snapshot_min_age_seconds``."""
    if not config.cockpit_snapshots:
        started = time.perf_counter()
        with db.session() as s:
            data = COMPUTE[kind](s, scope, params)
        return Dated(data, clock.now(), from_snapshot=False, compute_ms=int((time.perf_counter() - started) * 1000))
    now = clock.now()
    with db.session() as s:
        row = find(s, kind, scope, params)
        if row is not None:
            young = (now - row.computed_at).total_seconds() < config.snapshot_min_age_seconds
            if not fresh or young:
                if row.last_read_at is None or now - row.last_read_at >= READ_MARK_EVERY:
                    row.last_read_at = now  # coarse: a page view is not a write, the windows are days
                return Dated(loads(kind, row.payload), row.computed_at, from_snapshot=True, compute_ms=row.compute_ms)
    return compute_and_store(db, kind, scope, params, read=True)


# --------------------------------------------------------------------------- the worker's pass
@dataclasses.dataclass(frozen=True)
class PassReport:
    refreshed: int  # stale snapshots recomputed
    created: int  # default pages computed ahead for a scope that had none
    deleted: int  # snapshots nobody read for ``snapshot_keep_days``
    failed: int
    seconds: float

    @property
    def written(self) -> int:
        return self.refreshed + self.created


def manager_scopes(db: Database, config: Config) -> set[frozenset[str]]:
    """The distinct scopes of the active holders of a cockpit role (what their pages would count)."""
    roles = cockpit_roles(config)
    with db.session() as s:
        names = s.scalars(
            select(User.username)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role_code.in_(sorted(roles)), User.active.is_(True))
            .distinct()
        ).all()
        scopes: set[frozenset[str]] = set()
        for name in names:
            found = commission_scope(s, load_principal(s, name), roles)
            if found:
                scopes.add(found)
    return scopes


def refresh_pass(
    db: Database, config: Config, *, precompute: bool = True, now: dt.datetime | None = None
) -> PassReport:
    """One bounded pass: delete the long-unread, compute the managers' default pages that are missing
    (``precompute``), then recompute the stale snapshots read lately, oldest first, within the pass's
    count and time budget. A figure that fails (a process since removed …) is logged and its snapshot dropped."""
    started = time.perf_counter()
    now = now or clock.now()
    limit, budget = max(0, config.snapshot_pass_limit), config.snapshot_pass_seconds
    with db.session() as s:
        keep_after = now - dt.timedelta(days=config.snapshot_keep_days)
        deleted = s.execute(
            delete(CockpitSnapshot).where(
                func.coalesce(CockpitSnapshot.last_read_at, CockpitSnapshot.created_at) < keep_after
            )
        ).rowcount  # type: ignore[attr-defined]
    done = failed = created = 0

    def spent() -> bool:
        return done + failed >= limit or time.perf_counter() - started >= budget

    def run(kind: str, scope: Scope, params: Mapping[str, Any]) -> None:
        nonlocal done, failed
        try:
            compute_and_store(db, kind, scope, params, read=False)
            done += 1
        except EngineError as exc:  # a ValidationError: the process or the period is no longer valid
            failed += 1
            log.warning("cockpit snapshot %s %s not refreshed, dropped: %s", kind, params_text(params), exc)
            # dropped, not served stale for ever: the next read computes live and says what is wrong
            with db.session() as s:
                s.execute(
                    delete(CockpitSnapshot).where(
                        CockpitSnapshot.kind == kind,
                        CockpitSnapshot.scope_hash == _hash(scope_text(scope)),
                        CockpitSnapshot.params == params_text(params),
                    )
                )

    if precompute:
        for scope in sorted(manager_scopes(db, config), key=scope_text):
            for kind, params in default_params(now.astimezone(clock.LOCAL_TZ).date()):
                if spent():
                    break
                with db.session() as s:
                    missing = find(s, kind, scope, params) is None
                if missing:
                    run(kind, scope, params)
        created = done
    read_after = now - dt.timedelta(days=config.snapshot_read_days)
    stale_before = now - dt.timedelta(minutes=config.snapshot_refresh_minutes)
    if not spent():
        with db.session() as s:
            stale = s.execute(
                select(CockpitSnapshot.kind, CockpitSnapshot.scope, CockpitSnapshot.params)
                .where(
                    CockpitSnapshot.computed_at < stale_before,
                    or_(CockpitSnapshot.last_read_at >= read_after, CockpitSnapshot.created_at >= read_after),
                )
                .order_by(CockpitSnapshot.computed_at)
                .limit(limit)
            ).all()
        for kind, scope_raw, params_raw in stale:
            if spent():
                break
            if kind in COMPUTE:
                run(kind, scope_from_text(scope_raw), json.loads(params_raw))
    return PassReport(
        refreshed=done - created,
        created=created,
        deleted=deleted or 0,
        failed=failed,
        seconds=time.perf_counter() - started,
    )
