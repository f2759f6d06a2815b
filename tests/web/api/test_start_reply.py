"""The reply to a start is the new instance's detail, read in the start's own transaction (issue 19):
it must be exactly what ``GET /instances/{id}`` answers right after, in every shape a start can take."""

from __future__ import annotations

from sqlalchemy import event


def _same_as_detail(api, resp):
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    again = api.get(f"/instances/{body['id']}")
    assert again.status_code == 200
    assert body == again.get_json()
    return body


def test_a_start_alone_in_its_case_answers_its_detail(api_as):
    cm1 = api_as("cm1")
    body = _same_as_detail(
        cm1, cm1.post("/definitions/gt_test_clue/instances", json={"business_key": "XS-R1", "data": {"source": "信访"}})
    )
    assert body["current_tasks"] and body["linked_instances"] == [] and body["history"] == []


def test_a_start_joining_a_case_shows_the_instances_it_is_linked_to(api_as):
    cm1 = api_as("cm1")
    first = _same_as_detail(cm1, cm1.post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": "XS-R2"}}))
    second = _same_as_detail(cm1, cm1.post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": "XS-R2"}}))
    assert [link["id"] for link in second["linked_instances"]] == [first["id"]]


def test_a_start_that_waits_for_a_message_answers_after_routing_it(api_as):
    """A start that waits for a message (or throws one) is routed after its commit; its reply is read
    after that, so it shows what the routing did."""
    cm1 = api_as("cm1")
    body = _same_as_detail(cm1, cm1.post("/definitions/gt_test_waiter/instances", json={"data": {"clue_no": "YJ-R"}}))
    assert body["status"] == "running"


def test_a_start_and_its_reply_take_one_transaction_and_read_back_no_task(api_as, services):
    """The start and its reply share one transaction (beside the bearer token's, which a detail pays as
    well), and the task rows it has just written are not read back."""
    cm1 = api_as("cm1")
    # Warm: the first start in a process loads the deployed version once (its own read, cached after).
    assert cm1.post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": "XS-R4"}}).status_code == 201
    seen: list[str] = []
    commits: list[int] = []

    def statement(conn, cursor, sql, params, context, many):
        seen.append(sql.upper())

    def commit(conn):
        commits.append(1)

    event.listen(services.db.engine, "before_cursor_execute", statement)
    event.listen(services.db.engine, "commit", commit)
    try:
        resp = cm1.post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": "XS-R3"}})
        start_commits, start_seen = len(commits), list(seen)
        commits.clear()
        cm1.get(f"/instances/{resp.get_json()['id']}")
        detail_commits = len(commits)
    finally:
        event.remove(services.db.engine, "before_cursor_execute", statement)
        event.remove(services.db.engine, "commit", commit)
    assert resp.status_code == 201
    assert start_commits == detail_commits
    assert not [sql for sql in start_seen if sql.startswith("SELECT HUMAN_TASK.")]  # rows of tasks
    assert not [sql for sql in start_seen if sql.startswith("SELECT TASK_SUBMISSION.")]  # no record read


def test_a_detail_with_no_record_yet_asks_for_none(api_as, services):
    """Whether the instance has any record is asked with its row (the gate's statement); an instance with
    none is answered without a read of its records, one with some reads them as before."""
    cm1 = api_as("cm1")
    started = cm1.post("/definitions/gt_test_clue/instances", json={"data": {"clue_no": "XS-R5"}}).get_json()
    seen: list[str] = []

    def statement(conn, cursor, sql, params, context, many):
        seen.append(sql.upper())

    event.listen(services.db.engine, "before_cursor_execute", statement)
    try:
        resp = cm1.get(f"/instances/{started['id']}")
    finally:
        event.remove(services.db.engine, "before_cursor_execute", statement)
    assert resp.status_code == 200 and resp.get_json()["history"] == []
    assert not [sql for sql in seen if sql.startswith("SELECT TASK_SUBMISSION.")]
