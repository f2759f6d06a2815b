"""50 officers completing tasks at once against gunicorn with several workers, on the province database.

Ten units of five officers each (``load_01``…``load_10``, reserved in the province seed) share a pool of
real 8-step instances per unit. Each officer reads his own inbox (the steps handed to him), or when it
is empty the group inbox, picks one of the waiting tasks at random and completes it — in a closed loop
with no think time (the machine's capacity), then at work's pace (``THINK`` seconds between reading and
completing: the goal's 50 officers); two officers often pick the same group task, and
the second gets 409. After each round the database is checked against what the officers were told:

- no completion applied twice: no task acknowledged (200) to two officers; one final submission and one
  ``completed`` audit event per completed task; each instance's ``lock_version`` is 1 + its completions;
- no completion lost: every acknowledged task is completed in the database, every completed task was
  acknowledged, and each running instance's engine state waits at exactly the step its task rows say
  (the state is loaded and compared with the open ``human_task`` row).
"""

from __future__ import annotations

import statistics
from collections import Counter

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import text

from engine.runtime import state

from .common import median_ms, p95_ms, pg_available
from .overhead import COMPLETION_MARKERS, PROCESS, STEPS
from .province import LOAD_OFFICERS, LOAD_UNITS, province
from .serve import Gunicorn, py_spy, run_clients, summarise_profile

# Officers at work's pace: between reading his inbox and completing, an officer reads the case file and
# fills the form; 2–6 s is far quicker than anyone works (minutes), so 50 of them (~12 completions/s)
# stand for a busy prefecture's peak. The closed loop (no think time) measures the machine's capacity:
# there the latency is the officers' number divided by the rate (Little's law), whatever the server does.
THINK = (2.0, 6.0)
CLIENTS = 5  # client processes (10 officers' threads each): one process's lock held the 25 threads' replies


def _start_pool(services, per_unit: int, tag: str) -> list[int]:
    ids = []
    for u in range(1, LOAD_UNITS + 1):
        unit = f"load_{u:02d}"
        for i in range(per_unit):
            ids.append(
                services.runtime.start(PROCESS, data={"clue_no": f"XS-LOAD-{tag}-{u}-{i}", "unit": unit}).instance_id
            )
    return ids


def _officer_jobs(seed: int) -> list[dict]:
    return [
        {"user": f"officer_{u:02d}_{k}", "unit": f"load_{u:02d}", "seed": seed * 1000 + u * 10 + k}
        for u in range(1, LOAD_UNITS + 1)
        for k in range(1, LOAD_OFFICERS + 1)
    ]


def _verify(db, services, instance_ids: list[int], acked: list[int]) -> dict:
    loaded = services.definitions.loaded(1)
    ack_counts = Counter(acked)
    with db.engine.connect() as conn:
        completed = set(
            conn.execute(
                text("SELECT id FROM human_task WHERE instance_id = ANY(:ids) AND status = 'completed'"),
                {"ids": instance_ids},
            ).scalars()
        )
        subs = Counter(
            dict(
                conn.execute(
                    text(
                        "SELECT task_id, count(*) FROM task_submission WHERE instance_id = ANY(:ids) AND kind = 'final' "
                        "GROUP BY task_id"
                    ),
                    {"ids": instance_ids},
                ).all()
            )
        )
        audits = Counter(
            dict(
                conn.execute(
                    text(
                        "SELECT task_id, count(*) FROM audit_event WHERE instance_id = ANY(:ids) AND action = 'completed' "
                        "GROUP BY task_id"
                    ),
                    {"ids": instance_ids},
                ).all()
            )
        )
        instances = conn.execute(
            text(
                "SELECT i.id, i.status, i.lock_version, i.state, i.process_key, "
                " (SELECT count(*) FROM human_task t WHERE t.instance_id = i.id AND t.status = 'completed') AS done, "
                " (SELECT array_agg(t.spec_id || ' ' || t.task_uuid) FROM human_task t "
                "   WHERE t.instance_id = i.id AND t.status = 'ready') AS open "
                "FROM process_instance i WHERE i.id = ANY(:ids)"
            ),
            {"ids": instance_ids},
        ).all()
    problems = []
    doubles = [t for t, n in ack_counts.items() if n > 1]
    if doubles:
        problems.append(f"{len(doubles)} tasks acknowledged to two officers")
    lost = set(ack_counts) - completed
    if lost:
        problems.append(f"{len(lost)} acknowledged completions missing")
    unacked = completed - set(ack_counts)
    if unacked:
        problems.append(f"{len(unacked)} completions nobody was told about")
    if any(subs[t] != 1 for t in completed) or set(subs) - completed:
        problems.append("submission count per completed task is not exactly 1")
    if any(audits[t] != 1 for t in completed):
        problems.append("audit 'completed' events per task are not exactly 1")
    for row in instances:
        if row.lock_version != 1 + row.done:
            problems.append(f"instance {row.id}: lock_version {row.lock_version} after {row.done} completions")
        if row.done == STEPS:
            if row.status != "completed" or row.open:
                problems.append(f"instance {row.id}: all steps done but {row.status}, open {row.open}")
            continue
        expected = f"s{row.done + 1}"
        if row.status != "running" or not row.open or len(row.open) != 1 or row.open[0].split()[0] != expected:
            problems.append(f"instance {row.id}: {row.done} completions but open rows {row.open}")
            continue
        wf = state.load(
            row.state, loaded.spec(row.process_key), loaded.subprocess_specs(row.process_key), loaded.script_engine
        )
        waiting = [(t.task_spec.bpmn_id, str(t.id)) for t in wf.get_tasks(state=TaskState.READY, manual=True)]
        if waiting != [tuple(row.open[0].split())]:
            problems.append(f"instance {row.id}: engine waits at {waiting}, task rows say {row.open}")
    return {
        "completed": len(completed),
        "acked": len(acked),
        "doubles": len(doubles),
        "lost": len(lost),
        "unacked": len(unacked),
        "instances": len(instances),
        "problems": problems,
    }


def _claimable_left(db) -> int:
    """The load units' tasks still waiting in the group tab: zero means the officers ran out of work and the
    round's rate measures the pool, not the server."""
    with db.engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(DISTINCT t.id) FROM human_task t JOIN human_task_candidate c ON c.task_id = t.id "
                "WHERE c.unit_code LIKE 'load\\_%' AND t.status = 'ready' AND t.assignee IS NULL"
            )
        ).scalar_one()


def run(report, work, quick: bool) -> dict:
    if not pg_available():
        report.add("4. Concurrency", "_PostgreSQL not available: skipped._")
        return {}
    rounds = 1 if quick else 3
    duration = 1.0 if quick else 15.0
    paced_rounds = 1 if quick else 2
    paced_duration = 1.0 if quick else 30.0
    think = (0.05, 0.2) if quick else THINK  # --quick: a second's round must still complete something
    workers = 4
    officers = LOAD_UNITS * LOAD_OFFICERS
    db, services, _org, _marker = province(quick, work)
    expected_rate = 40.0  # first round's pool: the rate of recent runs (32/s), then each round's own
    rows, outs = [], []
    with Gunicorn(db.url, work, workers=workers) as server:
        server_cmd = server.describe()
        warm = _start_pool(services, 2, "warm")
        (warmed,) = run_clients(
            [
                {
                    "port": server.port,
                    "mode": "officers",
                    "duration": 0.5 if quick else 1.0,
                    "jobs": _officer_jobs(0)[:10],
                }
            ],
            work,
        )
        warm_acked = warmed["done"]
        all_ids: list[int] = []
        all_acked: list[int] = []
        plan = [("closed", None, duration)] * rounds + [("paced", think, paced_duration)] * paced_rounds
        for rnd, (kind, pause, seconds) in enumerate(plan):
            # Officers do their own tab first (an instance's later steps are in one lane, so each goes to
            # the officer who completed the one before), then the group's: an instance gives up to eight
            # completions, about half of them within a round. Paced officers complete one task per think.
            rate = expected_rate if kind == "closed" else officers / statistics.mean(pause or think)
            per_unit = int(rate * seconds * 1.5 / (STEPS / 2) / LOAD_UNITS) + 3
            ids = _start_pool(services, per_unit, f"r{rnd}")
            jobs = [{**job, "think": pause} for job in _officer_jobs(rnd + 1)]
            results = run_clients(
                [
                    {"port": server.port, "mode": "officers", "duration": seconds, "jobs": jobs[i::CLIENTS]}
                    for i in range(CLIENTS)
                ],
                work,
            )
            acked = [t for r in results for t in r["done"]]
            elapsed = max(r["elapsed"] for r in results)
            latencies = [x for r in results for x in r["latencies"]]
            lists = [x for r in results for x in r["list_latencies"]]
            refused = [x for r in results for x in r["conflict_latencies"]]
            errors: Counter = Counter()
            for r in results:
                errors.update(r["errors"])
            # Officers also finish earlier rounds' instances (their inbox holds them): check everything so far.
            all_ids += ids + warm
            all_acked += acked + warm_acked
            check = _verify(db, services, all_ids, all_acked)
            left = _claimable_left(db)
            warm, warm_acked = [], []
            out = {
                "kind": kind,
                "rate": len(acked) / elapsed,
                "p50": median_ms(latencies),
                "p95": p95_ms(latencies),
                "list_p95": p95_ms(lists),
                "conflicts": sum(r["conflicts"] for r in results),
                "conflict_p50": median_ms(refused) if refused else 0.0,
                "errors": dict(errors),
                "client_cpu": sum(r["cpu"] for r in results) / elapsed,
                "ran_out": any(r["ran_out"] for r in results),
                "check": check,
                "instances": len(ids),
            }
            if kind == "closed":
                expected_rate = max(out["rate"], 20.0)
            outs.append(out)
            ok = not check["problems"]
            pace = "no think time" if pause is None else f"think {pause[0]:g}–{pause[1]:g} s"
            rows.append(
                f"| {rnd + 1} | {pace} | {len(acked)} | {out['rate']:.0f} | {out['p50']:.0f} / **{out['p95']:.0f}** | "
                f"{out['list_p95']:.0f} | {out['conflicts']} ({out['conflict_p50']:.0f} ms) | "
                f"{sum(errors.values())} | {check['completed']} | {check['doubles']} | {check['lost']} | "
                f"{'yes' if ok else 'NO: ' + '; '.join(check['problems'][:3])} | {left} |"
            )
        prof = work / "profile-concurrency.txt"
        ids = _start_pool(services, int(expected_rate * 6 / LOAD_UNITS) + 3, "profile")
        with py_spy(server.worker_pids(), prof):
            run_clients(
                [
                    {
                        "port": server.port,
                        "mode": "officers",
                        "duration": 0.5 if quick else 6.0,
                        "jobs": _officer_jobs(99),
                    }
                ],
                work,
            )
        profile_md = summarise_profile(prof, markers=(*COMPLETION_MARKERS, "engine/inbox.py:list_tasks"))
        server_errors = server.errors()
    all_ok = all(not o["check"]["problems"] for o in outs)
    closed = [o for o in outs if o["kind"] == "closed"]
    paced = [o for o in outs if o["kind"] == "paced"]
    errors_total: Counter = Counter()
    for o in outs:
        errors_total.update(o["errors"])
    report.add(
        "4. Concurrency",
        "\n".join(
            [
                f"{officers} officers at once against {server_cmd} on the province database. **At work's pace** "
                f"(think {think[0]:g}–{think[1]:g} s between reading and completing; {paced_rounds} rounds of "
                f"{paced_duration:g} s): {statistics.median(o['rate'] for o in paced):.0f} completions/s, completion "
                f"p95 **{statistics.median(o['p95'] for o in paced):.0f} ms** (goal 250). **Capacity** (closed loop, "
                f"no think time; {rounds} rounds of {duration:g} s): "
                f"**{statistics.median(o['rate'] for o in closed):.0f} completions/s** (median), completion p95 "
                f"{statistics.median(o['p95'] for o in closed):.0f} ms — there 50 officers always waiting make the "
                "latency 50 ÷ the rate, a measure of the machine, not of one officer's wait. Every completion "
                f"applied exactly once and none lost: **{'proved' if all_ok else 'NOT PROVED'}**.",
                "",
                "| round | pace | completions acknowledged | completions/s | completion p50 / p95 (ms) | inbox read p95 (ms) | "
                "409 (someone was faster; p50) | other errors | completed in the database (all rounds so far) | "
                "acknowledged twice | lost | database agrees | group tasks left after the round |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
                *rows,
                "",
                "Each officer reads `GET /api/v1/tasks?scope=mine&per_page=20` (the steps handed to him) and, "
                "when it is empty, `?scope=group`, picks a task at random and posts "
                "`/complete`; five officers share each unit's pool, so they collide, and the loser gets 409 with nothing "
                "changed, at once: a completion holds the instance row or is refused without waiting for it "
                "(engine/runtime/instance_lock.py); the 409s' p50 is taken at the client, as the completions', so it "
                "includes the wait for a free server thread. The check "
                "after each round compares the acknowledgements with the database row by row: "
                "task status, submissions, audit events, `lock_version` and the open task row against the engine "
                "state loaded from the instance. Five client processes of 10 threads; their CPU "
                f"({statistics.median(o['client_cpu'] for o in outs) * 100:.0f}% of a core) comes out of the same 2 cores. "
                "Other errors: "
                + ("; ".join(f"{v}× {k}" for k, v in errors_total.items()) or "none")
                + (f" (server log: {server_errors})" if server_errors else "")
                + ".",
                "",
                "**Profile** (py-spy on the 4 workers, 50 officers):",
                "",
                profile_md,
            ]
        ),
    )
    return {"rounds": outs, "ok": all_ok}
