"""Documents on the pages and in the API: links where the case is shown, downloads for its readers only."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from sqlalchemy import select

from engine.definitions import load_bundle
from engine.models import AuditEvent, HumanTask
from tests.conftest import FIXTURES

DOCUMENTS = {
    "register_sheet": {"title": "问题线索登记表", "layout": "sheet", "forms": ["register"], "number": "clue_no"}
}


@pytest.fixture
def library():
    bundle = load_bundle(FIXTURES / "lib")
    bundle.settings["documents"] = DOCUMENTS
    return bundle


def _registered(client_for, services) -> int:
    cm1 = client_for("cm1")
    cm1.post("/cockpit/start/gt_test_clue", data={"business_key": "XS-DOC"})
    with services.db.session() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.spec_id == "register", HumanTask.status == "ready"))
    resp = cm1.post(
        f"/tasks/{task.id}",
        data={"action": "complete", "clue_no": "XS-DOC-1", "handling_unit": "jc1", "summary": "反映某局长违规插手招标"},
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return task.instance_id


def _text(data: bytes) -> str:
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))


def test_the_instance_page_links_the_documents_and_the_download_is_audited(client_for, services):
    iid = _registered(client_for, services)
    so1 = client_for("so1")
    page = so1.get(f"/instances/{iid}").get_data(as_text=True)
    assert 'data-document="register_sheet"' in page and f"/instances/{iid}/documents/register_sheet.pdf" in page
    with services.db.session() as s:
        propose = s.scalar(select(HumanTask.id).where(HumanTask.spec_id == "propose"))
    assert f"/instances/{iid}/documents/register_sheet.docx" in so1.get(f"/tasks/{propose}").get_data(as_text=True)
    resp = so1.get(f"/instances/{iid}/documents/register_sheet.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "attachment;" in resp.headers["Content-Disposition"] and resp.headers["Cache-Control"] == "no-store"
    text = _text(resp.data)
    assert "XS-DOC-1" in text and "反映某局长违规插手招标" in text
    # Someone outside the case: no links, and the download answers as if the case did not exist.
    so2 = client_for("so2")
    assert so2.get(f"/instances/{iid}/documents/register_sheet.pdf").status_code == 404
    assert so1.get(f"/instances/{iid}/documents/nothing.pdf").status_code == 404
    assert so1.get(f"/instances/{iid}/documents/register_sheet.exe").status_code == 404
    with services.db.session() as s:
        actors = s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "document_downloaded")).all()
        denied = s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "access_denied")).all()
    assert actors == ["so1"] and "so2" in denied


def test_the_api_lists_and_sends_the_same_documents(client_for, services, api_as):
    iid = _registered(client_for, services)
    listed = api_as("so1").get(f"/instances/{iid}/documents")
    assert listed.status_code == 200
    assert listed.get_json() == [
        {"kind": "register_sheet", "title": "问题线索登记表", "number": "XS-DOC-1", "formats": ["pdf", "docx"]}
    ]
    pdf = api_as("so1").get(f"/instances/{iid}/documents/register_sheet/pdf", headers={"Accept": "*/*"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and "XS-DOC-1" in _text(pdf.data)
    word = api_as("so1").get(f"/instances/{iid}/documents/register_sheet/docx", headers={"Accept": "*/*"})
    assert word.status_code == 200 and word.data[:2] == b"PK"
    assert api_as("so2").get(f"/instances/{iid}/documents").status_code == 404
    refused = api_as("so2").get(f"/instances/{iid}/documents/register_sheet/pdf")
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    assert api_as(None).get(f"/instances/{iid}/documents").status_code == 401
