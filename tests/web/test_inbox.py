"""Inbox pages: counts per tab, filters, business-key search, pagination and due states."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import event, select

from engine.clock import LOCAL_TZ
from engine.models import HumanTask, TaskUrge


def _task_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-task-id="(\d+)"', html)]


def test_pagination_counts_and_search(client_for, start_clue, services):
    for n in range(7):
        start_clue(clue_no=f"XS-2024-{n:03d}")
    cm1 = client_for("cm1")
    first = cm1.get("/inbox?tab=group").get_data(as_text=True)
    assert len(_task_ids(first)) == 5  # INBOX_PER_PAGE=5 in the test app
    assert 'data-testid="count-group">7<' in first and 'data-testid="count-mine">0<' in first
    assert 'aria-label="分页"' in first and "第 1 / 2 页，共 7 项" in first
    second = cm1.get("/inbox?tab=group&page=2").get_data(as_text=True)
    assert len(_task_ids(second)) == 2
    assert not set(_task_ids(first)) & set(_task_ids(second))
    found = cm1.get("/inbox?tab=group&q=2024-003").get_data(as_text=True)
    assert len(_task_ids(found)) == 1 and "XS-2024-003" in found
    assert 'data-testid="count-group">1<' in found
    assert _task_ids(cm1.get("/inbox?tab=group&q=xs-2024").get_data(as_text=True))  # case-insensitive
    assert _task_ids(cm1.get("/inbox?tab=group&q=%25").get_data(as_text=True)) == []  # % is literal


def test_filters_by_stage_platform_process_and_unit(client_for, start_clue, services):
    start_clue(clue_no="XS-1")
    cm1 = client_for("cm1")
    assert (
        len(_task_ids(cm1.get("/inbox?tab=group&stage=dispose&platform=P5&mechanism=M2").get_data(as_text=True))) == 1
    )
    assert _task_ids(cm1.get("/inbox?tab=group&stage=goal").get_data(as_text=True)) == []
    assert _task_ids(cm1.get("/inbox?tab=group&process=gt_test_waiter").get_data(as_text=True)) == []
    assert len(_task_ids(cm1.get("/inbox?tab=group&process=gt_test_clue").get_data(as_text=True))) == 1
    with services.db.session() as s:
        register = s.scalar(select(HumanTask).where(HumanTask.spec_id == "register"))
    cm1.post(f"/tasks/{register.id}", data={"action": "complete", "clue_no": "XS-1", "handling_unit": "jc1"})
    lead = client_for("so1lead")
    assert len(_task_ids(lead.get("/inbox?tab=group&unit=jc1").get_data(as_text=True))) == 1
    assert _task_ids(lead.get("/inbox?tab=group&unit=jc2").get_data(as_text=True)) == []
    html = lead.get("/inbox?tab=group").get_data(as_text=True)
    assert '<option value="gt_test_clue"' in html and "测试线索处置" in html  # process filter offers it


def test_due_states_in_working_days(client_for, start_clue, services, frozen_clock):
    # Monday 2024-03-04: propose is due 5 working days later, Monday 03-11 end of day.
    start_clue()
    with services.db.session() as s:
        register = s.scalar(select(HumanTask).where(HumanTask.spec_id == "register"))
    client_for("cm1").post(
        f"/tasks/{register.id}", data={"action": "complete", "clue_no": "XS-D", "handling_unit": "jc1"}
    )
    so1 = client_for("so1")
    html = so1.get("/inbox?tab=group").get_data(as_text=True)
    assert "2024-03-11" in html and "正常" in html and "剩 5 个工作日" in html
    frozen_clock.set(dt.datetime(2024, 3, 8, 10, 0, tzinfo=LOCAL_TZ))  # Friday: 1 working day left
    html = client_for("so1").get("/inbox?tab=group").get_data(as_text=True)  # days later: a new session
    assert "即将到期" in html and "剩 1 个工作日" in html
    frozen_clock.set(dt.datetime(2024, 3, 13, 10, 0, tzinfo=LOCAL_TZ))  # Wednesday after
    html = client_for("so1").get("/inbox?tab=group").get_data(as_text=True)
    assert "已逾期" in html and "逾期 2 个工作日" in html


def test_bad_page_and_tab_values_fall_back(client_for, start_clue):
    start_clue()
    cm1 = client_for("cm1")
    assert cm1.get("/inbox?page=abc").status_code == 200
    assert cm1.get("/inbox?tab=everything").status_code == 200
    assert cm1.get("/inbox?tab=group&page=99").status_code == 200


class _Reads:
    """What one request asks of the database: pooled connections checked out, statements, and the
    transactions the database really saw (a COMMIT or ROLLBACK the driver sent: SQLAlchemy fires its
    events also for a connection in autocommit, or for SQLite's driver with nothing begun)."""

    def __init__(self, engine):
        self.engine = engine
        self.checkouts = 0
        self.statements: list[str] = []
        self.transactions = 0

    def _checkout(self, *_):
        self.checkouts += 1

    def _statement(self, conn, cursor, statement, *_):
        self.statements.append(statement)

    def _end(self, conn):
        dbapi = conn.connection.dbapi_connection
        if hasattr(dbapi, "in_transaction"):  # sqlite3
            self.transactions += bool(dbapi.in_transaction)
        else:  # psycopg: 0 is IDLE
            self.transactions += not dbapi.autocommit and dbapi.info.transaction_status != 0

    def __enter__(self):
        for name, fn in self._events():
            event.listen(self.engine, name, fn)
        return self

    def __exit__(self, *_):
        for name, fn in self._events():
            event.remove(self.engine, name, fn)

    def _events(self):
        return (
            ("checkout", self._checkout),
            ("before_cursor_execute", self._statement),
            ("commit", self._end),
            ("rollback", self._end),
        )


def test_one_inbox_page_is_two_reads(client_for, start_clue, services, frozen_clock, steady_caches):
    """The page's person (session, user, memberships: one statement) and everything the page shows (the
    tab, its badges and menus, the urged marks, the 待阅 and bell counts) in one read-only session: two
    connection checkouts and no database transaction. It was six checkouts and sixteen statements for a
    landing (the separate use cases; 我的待办's page read, then 可认领's on a second connection), five and
    twelve otherwise, and on PostgreSQL four BEGIN…COMMIT pairs (issue 19)."""
    start_clue(clue_no="XS-R1")
    start_clue(clue_no="XS-R2")
    with services.db.session() as s:
        register = s.scalars(select(HumanTask).where(HumanTask.spec_id == "register")).first()
        s.add(TaskUrge(task_id=register.id, instance_id=register.instance_id, urged_by="boss", note="快"))
    cm1 = client_for("cm1")  # holds nothing: lands on 可认领, where the two registers wait
    cm1.get("/inbox")  # the process's first page reads the unit and role names it keeps (names.py)
    with _Reads(services.db.engine) as reads:
        html = cm1.get("/inbox").get_data(as_text=True)
    assert re.search(r'aria-current="page"\s+href="/inbox\?tab=group"', html) and len(_task_ids(html)) == 2
    assert html.count('data-testid="urged"') == 1 and 'data-testid="count-copies">0<' in html
    assert reads.checkouts == 2 and reads.transactions == 0
    pages = [sql for sql in reads.statements if sql.startswith("SELECT human_task.id, human_task.instance_id")]
    assert len(pages) == 1  # the landing reads the page it shows, once
    assert len(reads.statements) <= 10
    with _Reads(services.db.engine) as reads:
        assert cm1.get("/inbox?tab=completed&q=XS").status_code == 200
    assert reads.checkouts == 2 and reads.transactions == 0 and len(reads.statements) <= 10
