"""The deadlines page shows each group's first tasks and links to the group's own paged page (issue 16).

The cutting itself (engine/cockpit/deadline_groups.py) is checked on a hand-built ``Deadlines`` first, then
the pages on real overdue tasks: preview, link, group page, paging, bad parameters and the complete export.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update

from engine import clock
from engine.cockpit import deadline_groups
from engine.cockpit.figures import DeadlineGroup, DeadlineItem, Deadlines
from engine.models import HumanTask
from engine.tasks.inbox import DueInfo


def _item(n: int, role: str | None) -> DeadlineItem:
    due = DueInfo(state="overdue", workdays_left=-n)
    return DeadlineItem(n, n, f"task {n}", "clue", f"XS-{n}", None, role, None, None, [], due)


def _data() -> Deadlines:
    groups = [
        DeadlineGroup("jc1", "office", 12, 0, [_item(n, "office") for n in range(12)]),
        DeadlineGroup("jc1", None, 2, 1, [_item(n, None) for n in range(100, 103)]),
        DeadlineGroup(None, "office", 1, 0, [_item(200, "office")]),
    ]
    return Deadlines(groups=groups, totals={"overdue": 15, "due_soon": 1}, truncated=False, soon_workdays=2)


def test_preview_keeps_exact_counts_and_the_first_tasks():
    cut = deadline_groups.preview(_data(), per_group=5)
    assert [(g.unit, g.role, g.overdue, g.due_soon, g.total) for g in cut.groups] == [
        ("jc1", "office", 12, 0, 12),
        ("jc1", None, 2, 1, 3),
        (None, "office", 1, 0, 1),
    ]
    assert [i.id for i in cut.groups[0].items] == [0, 1, 2, 3, 4]
    assert cut.source.totals == {"overdue": 15, "due_soon": 1} and (cut.group_count, cut.page, cut.pages) == (3, 1, 1)


def test_preview_pages_the_groups():
    data = _data()
    second = deadline_groups.preview(data, page=2, groups_per_page=2)
    assert [(g.unit, g.role) for g in second.groups] == [(None, "office")] and (second.page, second.pages) == (2, 2)
    assert deadline_groups.preview(data, page=50, groups_per_page=2).page == 2
    assert [g.role for g in deadline_groups.preview(data, page=0, groups_per_page=2).groups] == ["office", None]


def test_group_page_is_exactly_that_group_paged():
    data = _data()
    first = deadline_groups.group_page(data, unit="jc1", role="office", per_page=5)
    assert [i.id for i in first.items] == [0, 1, 2, 3, 4] and (first.total, first.pages) == (12, 3)
    last = deadline_groups.group_page(data, unit="jc1", role="office", page=3, per_page=5)
    assert [i.id for i in last.items] == [10, 11]
    assert deadline_groups.group_page(data, unit="jc1", role="office", page=99, per_page=5).page == 3
    assert deadline_groups.group_page(data, unit="jc1", role="office", page=-4, per_page=5).page == 1
    # the empty string is "not specified": (jc1, no role) and (no unit, office) are other groups
    assert [i.id for i in deadline_groups.group_page(data, unit="jc1", role="").items] == [100, 101, 102]
    assert [i.id for i in deadline_groups.group_page(data, unit="", role="office").items] == [200]
    gone = deadline_groups.group_page(data, unit="nowhere", role="office")
    assert gone.group is None and gone.items == [] and (gone.total, gone.page, gone.pages) == (0, 1, 1)


def _overdue_tasks(services, who, start_clue, count: int) -> list[HumanTask]:
    for _ in range(count):
        start_clue()
    cm1 = who("cm1")
    with services.db.session() as s:
        ready = s.scalars(select(HumanTask).where(HumanTask.spec_id == "register", HumanTask.status == "ready")).all()
    for task in ready:
        services.runtime.complete_task(
            task.id,
            actor=cm1,
            data={"clue_no": f"XS-{task.instance_id}", "handling_unit": "jc1"},
            record={"clue_no": f"XS-{task.instance_id}", "handling_unit": "jc1"},
        )
    now = clock.now()
    with services.db.session() as s:
        tasks = s.scalars(
            select(HumanTask).where(HumanTask.spec_id == "propose", HumanTask.status == "ready").order_by(HumanTask.id)
        ).all()
        # the first task the most overdue, so the page's order (most overdue first) is the id order
        for n, t in enumerate(tasks):
            s.execute(update(HumanTask).where(HumanTask.id == t.id).values(due_at=now - dt.timedelta(days=30 - n)))
    return list(tasks)


def _keys(html: str) -> list[str]:
    return re.findall(r">(XS-\d+)</a>", html)


def test_pages_preview_link_paging_bad_input_and_complete_export(client_for, start_clue, services, who, monkeypatch):
    monkeypatch.setattr(deadline_groups, "PREVIEW", 2)
    monkeypatch.setattr(deadline_groups, "PER_PAGE", 3)
    monkeypatch.setattr(deadline_groups, "GROUPS_PER_PAGE", 1)
    tasks = _overdue_tasks(services, who, start_clue, 4)
    keys = [f"XS-{t.instance_id}" for t in tasks]
    boss = client_for("boss")

    html = boss.get("/cockpit/deadlines").get_data(as_text=True)
    assert _keys(html) == keys[:2]  # only the two most overdue
    assert "已逾期 4" in html and "查看全部 4 项" in html
    assert "上一页" not in html  # one group: no group pager
    assert _keys(boss.get("/cockpit/deadlines?page=9").get_data(as_text=True)) == keys[:2]  # past the end: the last
    link = re.search(r'href="([^"]+)" data-testid="deadline-group-all"', html).group(1).replace("&amp;", "&")
    assert link == "/cockpit/deadlines/group?unit=jc1&role=supervision_office"

    first = boss.get(link)
    assert first.status_code == 200
    page1 = first.get_data(as_text=True)
    assert _keys(page1) == keys[:3] and "第 1 / 2 页" in page1
    assert _keys(boss.get(link + "&page=2").get_data(as_text=True)) == keys[3:]
    assert _keys(boss.get(link + "&page=999").get_data(as_text=True)) == keys[3:]  # past the end: the last page
    assert _keys(boss.get(link + "&page=abc").get_data(as_text=True)) == keys[:3]  # unreadable: the first

    unknown = boss.get("/cockpit/deadlines/group?unit=nowhere&role=supervision_office")
    assert unknown.status_code == 200
    text = unknown.get_data(as_text=True)
    assert 'data-testid="deadline-group-empty"' in text and _keys(text) == []
    assert boss.get("/cockpit/deadlines/group").status_code == 200  # no parameters: the empty "unspecified" group

    csv = boss.get("/cockpit/export/deadlines.csv").get_data(as_text=True)
    assert all(k in csv for k in keys)  # the export keeps every row

    assert client_for("cm1").get(link).status_code == 403  # not a cockpit role: the gate refuses
