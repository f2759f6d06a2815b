"""engine/documents: a case's records printed as PDF and DOCX, through the need-to-know and reveal gates.

The test library gets a 登记表 (sheet), a 呈批表 (approval: the proposal with the 批示 under it) and a
notice (official layout) over its forms.
"""

from __future__ import annotations

import io
import re

import docx
import pypdf
import pytest
from sqlalchemy import select

from engine.definitions import compile_bundle, load_bundle
from engine.documents import operations as documents
from engine.documents.fonts import FONT_ENV, FontMissing
from engine.errors import DeployError, NotFound, NotVisible, ValidationError
from engine.models import AuditEvent, Unit
from engine.tasks import operations as tasks
from tests.conftest import FIXTURES
from tests.engine.usecases import REVEAL, ready, registered

DOCUMENTS = {
    "register_sheet": {"title": "问题线索登记表", "layout": "sheet", "forms": ["register"], "number": "clue_no"},
    "disposal_sheet": {"title": "线索处置呈批表", "layout": "approval", "forms": ["propose"], "approvals": ["approve"]},
    "register_notice": {
        "title": "线索登记通知",
        "layout": "official",
        "forms": ["register"],
        "number": "clue_no",
        "addressee": "handling_unit",
    },
}


@pytest.fixture
def library():
    bundle = load_bundle(FIXTURES / "lib")
    bundle.settings["documents"] = DOCUMENTS
    return bundle


def pdf_text(data: bytes) -> str:
    """The PDF's text without the spaces and NULs pypdf puts between CJK glyphs (fpdf2 maps each glyph
    to four bytes in its ToUnicode map, which pypdf reads as UTF-16: a NUL, then the character)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in reader.pages))


def docx_text(data: bytes) -> str:
    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def _download(services, who, username, kind, fmt="pdf", instance_id=None):
    return documents.download_document(services, who(username), instance_id, kind, fmt, reveal=REVEAL)


def test_the_deploy_checks_the_documents_section():
    bundle = load_bundle(FIXTURES / "lib")
    bundle.settings["documents"] = {"x": {"title": "X", "layout": "poster", "forms": ["register"]}}
    with pytest.raises(DeployError, match="layout must be one of"):
        compile_bundle(bundle)
    bundle.settings["documents"] = {"x": {"title": "X", "forms": ["nowhere"], "number": "no_such_field"}}
    with pytest.raises(DeployError) as refused:
        compile_bundle(bundle)
    reasons = " ".join(p["reason"] for p in refused.value.problems)
    assert "form 'nowhere' is not in forms/" in reasons and "field 'no_such_field'" in reasons


def test_the_register_prints_the_number_and_data_and_masks_the_reporter(services, who):
    with services.db.session() as s:
        s.get(Unit, "cdi").doc_prefix = "测纪"
    started, _ = registered(services, who)
    iid = started.instance_id
    assert [(d.kind, d.number) for d in documents.list_documents(services, who("so1"), iid)] == [
        ("register_sheet", "XS-9"),
        ("register_notice", "XS-9"),
    ]
    officer = _download(services, who, "so1", "register_sheet", instance_id=iid)
    assert officer.content_type == "application/pdf" and officer.filename == "问题线索登记表-XS-9.pdf"
    text = pdf_text(b"".join(officer.chunks))
    assert "问题线索登记表" in text and "XS-9" in text and "反映问题" in text and "测试县纪委监委" in text
    assert "第一监督检查室" in text  # a unit by its name, not its code
    assert "李检举" not in text and "●●●●●●" in text  # the sealed reporter, masked for a non-reveal role
    assert "刘洋" in text  # who took it out, in the foot of every page
    # A reveal role (the secretary, once the case reaches him) prints the reporter; audited like any reveal.
    tasks.submit_task(services, who("so1"), ready(services, "propose")[0], {"disposal": "chubu_heshi"}, reveal=REVEAL)
    secretary = pdf_text(b"".join(_download(services, who, "boss", "register_sheet", instance_id=iid).chunks))
    assert "李检举" in secretary
    with services.db.session() as s:
        events = s.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.action.in_(("document_downloaded", "confidential_viewed")))
            .order_by(AuditEvent.id)
        ).all()
    assert [(e.actor, e.action) for e in events] == [
        ("so1", "document_downloaded"),
        ("boss", "confidential_viewed"),
        ("boss", "document_downloaded"),
    ]
    assert events[0].detail == {"document": "register_sheet", "format": "pdf", "number": "XS-9"}


def test_the_official_layout_and_the_word_file(services, who):
    started, _ = registered(services, who)
    notice = _download(services, who, "cm1", "register_notice", instance_id=started.instance_id)
    text = pdf_text(b"".join(notice.chunks))
    # 版头 (the commission), 发文字号, 标题, 主送, 正文 and 落款.
    assert (
        text.index("测试县纪委监委") < text.index("XS-9") < text.index("线索登记通知") < text.index("第一监督检查室：")
    )
    assert "反映问题摘要：反映问题" in text and "测试县纪委监委办公室" in text
    word = _download(services, who, "so1", "register_sheet", "docx", instance_id=started.instance_id)
    assert word.filename.endswith(".docx")
    written = docx_text(b"".join(word.chunks))
    assert "问题线索登记表" in written and "编号：XS-9" in written and "反映问题" in written
    assert "李检举" not in written and "●●●●●●" in written


def test_the_approval_sheet_carries_the_instructions(services, who):
    started, _ = registered(services, who)
    propose = ready(services, "propose")[0]
    tasks.submit_task(services, who("so1"), propose, {"disposal": "chubu_heshi", "reason": "需核实"}, reveal=REVEAL)
    empty = pdf_text(
        b"".join(_download(services, who, "so1", "disposal_sheet", instance_id=started.instance_id).chunks)
    )
    assert "初步核实" in empty and "尚无批示" in empty
    approve = ready(services, "approve")[0]
    tasks.submit_task(
        services, who("boss"), approve, {"approved": True, "opinion": "同意初核，抓紧办理"}, reveal=REVEAL
    )
    sheet = pdf_text(
        b"".join(_download(services, who, "so1", "disposal_sheet", instance_id=started.instance_id).chunks)
    )
    assert "领导批示" in sheet and "审批处置意见" in sheet and "同意初核，抓紧办理" in sheet and "马成志" in sheet
    word = docx_text(
        b"".join(_download(services, who, "so1", "disposal_sheet", "docx", instance_id=started.instance_id).chunks)
    )
    assert "同意初核，抓紧办理" in word and "马成志" in word


def test_refusals_name_what_is_wrong_and_audit_nothing(services, who, monkeypatch):
    started, _ = registered(services, who)
    iid = started.instance_id
    with pytest.raises(NotVisible):  # 第二监督检查室 has nothing to do with this clue
        _download(services, who, "so2", "register_sheet", instance_id=iid)
    with pytest.raises(NotVisible):
        documents.list_documents(services, who("so2"), iid)
    with pytest.raises(NotFound):
        _download(services, who, "so1", "no_such_document", instance_id=iid)
    with pytest.raises(NotFound):  # no proposal recorded yet
        _download(services, who, "so1", "disposal_sheet", instance_id=iid)
    with pytest.raises(ValidationError) as bad:
        _download(services, who, "so1", "register_sheet", "exe", instance_id=iid)
    assert bad.value.fields == {"format": "只能是 pdf 或 docx"}
    monkeypatch.setenv(FONT_ENV, "/nonexistent/font.ttc")
    with pytest.raises(FontMissing) as missing:
        _download(services, who, "so1", "register_sheet", instance_id=iid)
    assert missing.value.status == 503
    with services.db.session() as s:
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "document_downloaded")) is None
