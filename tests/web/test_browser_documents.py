"""In a real browser: a real-name clue of the process library reaches 函询 (the walk of scenario B), then
the 第一监督检查室's 刘洋 prints the 问题线索登记表 and the 函询通知书 from the case's page, and the reported
official 赵某 prints his letter (and only it) from his task. The PDFs are checked for the case's numbers
and data; screenshots in docs/screenshots/documents*.png (with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pypdf
import pytest
from sqlalchemy import select, update

from engine import clock
from engine.config import Config
from engine.models import IssuedNumber, ProcessInstance, User
from engine.services import Services
from tests.county import password_hash
from tests.processes.driver import PROCESSES, Walk
from tests.processes.paths import BASE
from tests.web.test_browser import SHOTS, _sign_in, browser, live_server  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser

QUESTIONS = "请就是否接受工程承包方宴请、收受礼金及干预项目验收作出说明。"
SUMMARY = "反映乡村振兴局副局长赵某接受工程承包方宴请"


@pytest.fixture
def walked(db):
    """The walk up to the reported official's reply; returns (clue instance, clue number, letter number)."""
    values = {k: v for k, v in BASE.items() if k != "clue_no"}  # the 线索编号 is issued by the system
    values.update(
        real_name=True,
        cadre_authority="county",
        host_unit="qh_xczxj_dz",
        recipient="zhaomou",
        handling_unit="qh_jc1",
        resident_unit="qh_pz1",
        township_unit="qh_qj",
        secretary_approval_required=True,
        needs_secretary_approval=True,
        disposal_method="tanhua_hanxun",
        inquiry_mode="letter",
        problem_summary=SUMMARY,
    )
    with clock.frozen(dt.datetime(2027, 3, 4, 9, tzinfo=clock.LOCAL_TZ)) as frozen:
        walk = Walk(db, frozen, values=values)
        with walk.recorder:
            walk.start("gt_p5_intake_report", actor="zhoujing")
            walk.complete("t_screen", actor="zhoujing", received_date="2027-03-04")
            walk.complete("t_register", actor="zhoujing")
            walk.until("t_letter")
            walk.complete(
                "t_letter", actor="liuyang", sent_date="2027-03-10", delivered_date="2027-03-11", questions=QUESTIONS
            )
            walk.task("t_reply")
    with db.session() as s:
        numbers = dict(s.execute(select(IssuedNumber.sequence, IssuedNumber.number)).all())
        instance = s.scalar(select(ProcessInstance.id).where(ProcessInstance.business_key == numbers["clue"]))
        s.execute(update(User).values(password_hash=password_hash(), must_change_password=False))
    return instance, numbers["clue"], numbers["inquiry_letter"]


@pytest.fixture
def services(db, tmp_path, walked):
    config = Config(
        database_url=db.url,
        processes_dir=PROCESSES,
        instance_dir=tmp_path,
        secret_key="browser-documents",
        attachments_dir=tmp_path / "attachments",
        embedded_worker=False,
    )
    return Services(config, db=db)


def _pdf(download) -> str:
    data = open(download.path(), "rb").read()  # noqa: SIM115 - Playwright's temporary file
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))


def test_officers_print_the_register_and_the_inquiry_letter(live_server, browser, walked):  # noqa: F811
    instance, clue_no, letter_no = walked
    assert re.fullmatch(r"XS-2027-0001", clue_no) and letter_no == "青纪函〔2027〕1号"
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    _sign_in(page, live_server, "liuyang")
    page.goto(f"{live_server}/instances/{instance}")
    documents = page.get_by_test_id("documents")
    assert "问题线索登记表" in documents.inner_text() and letter_no in documents.inner_text()
    documents.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "documents-instance.png"), full_page=True)
    with page.expect_download() as register:
        page.get_by_role("link", name="打印 问题线索登记表 PDF").click()
    text = _pdf(register.value)
    assert register.value.suggested_filename == f"问题线索登记表-{clue_no}.pdf"
    assert clue_no in text and SUMMARY in text and "青湖县纪委监委" in text
    with page.expect_download() as letter:
        page.get_by_role("link", name="打印 函询通知书 PDF").click()
    text = _pdf(letter.value)
    assert letter_no in text and QUESTIONS in text and "赵某" in text and "函询通知书" in text
    context.close()
    # The reported official reads his letter only: its link on his task page, no 登记表.
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    _sign_in(page, live_server, "zhaomou")
    page.get_by_role("link", name="书面说明函询问题").first.click()
    documents = page.get_by_test_id("documents")
    assert "函询通知书" in documents.inner_text() and "问题线索登记表" not in documents.inner_text()
    documents.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "documents-task.png"), full_page=True)
    with page.expect_download() as own:
        page.get_by_role("link", name="打印 函询通知书 PDF").click()
    assert letter_no in _pdf(own.value)
    assert page.request.get(f"{live_server}/instances/{instance}/documents/clue_register.pdf").status == 404
    context.close()
