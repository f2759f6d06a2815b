"""Attachments: encrypted at rest, size and type limits, need-to-know and confidential downloads."""

from __future__ import annotations

import hashlib
import io

from sqlalchemy import select

from engine.models import Attachment, AuditEvent, HumanTask

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _register_task(start_clue, services):
    start_clue()
    with services.db.session() as s:
        return s.scalar(select(HumanTask).where(HumanTask.spec_id == "register"))


def _upload(client, task_id, content, filename, **extra):
    return client.post(
        f"/tasks/{task_id}/attachments",
        data={"file": (io.BytesIO(content), filename), **extra},
        content_type="multipart/form-data",
    )


def _attachments(services):
    with services.db.session() as s:
        return s.scalars(select(Attachment).order_by(Attachment.id)).all()


def _stored_files(services):
    return [p for p in services.config.attachments_dir.rglob("*") if p.is_file()]


def test_upload_is_encrypted_listed_and_downloaded(client_for, start_clue, services):
    task = _register_task(start_clue, services)
    cm1 = client_for("cm1")
    resp = _upload(cm1, task.id, PDF, "举报材料.pdf")
    assert resp.status_code == 302
    [row] = _attachments(services)
    sha = hashlib.sha256(PDF).hexdigest()
    assert (row.sha256, row.size, row.filename, row.content_type) == (sha, len(PDF), "举报材料.pdf", "application/pdf")
    assert row.key_id == services.sealer.key_id
    [stored] = _stored_files(services)
    assert PDF not in stored.read_bytes() and sha not in str(stored)  # nothing on disk tells what it holds
    assert stored.stat().st_mode & 0o077 == 0 and stored.parent.stat().st_mode & 0o077 == 0
    page = cm1.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "举报材料.pdf" in page
    download = cm1.get(f"/attachments/{row.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E4%B8%BE%E6%8A%A5%E6%9D%90%E6%96%99.pdf" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"


def test_type_content_and_size_limits(client_for, start_clue, services, app):
    task = _register_task(start_clue, services)
    cm1 = client_for("cm1")
    resp = _upload(cm1, task.id, b"MZ\x90\x00", "tool.exe")
    assert "不接受此文件类型" in cm1.get(resp.headers["Location"]).get_data(as_text=True)
    resp = _upload(cm1, task.id, b"MZ\x90\x00 not a pdf", "renamed.pdf")
    assert "文件内容与扩展名 .pdf 不符" in cm1.get(resp.headers["Location"]).get_data(as_text=True)
    app.config["ATTACHMENT_MAX_BYTES"] = 1024 * 1024
    resp = _upload(cm1, task.id, PDF + b"0" * (1024 * 1024), "big.pdf")
    assert "文件不能超过 1 MB" in cm1.get(resp.headers["Location"]).get_data(as_text=True)
    assert _attachments(services) == []
    assert _stored_files(services) == []


def test_only_people_who_may_act_can_upload(client_for, start_clue, services):
    task = _register_task(start_clue, services)
    assert _upload(client_for("so1"), task.id, PDF, "x.pdf").status_code == 404  # not theirs to see
    assert _attachments(services) == []


def test_download_follows_need_to_know_and_confidentiality(client_for, start_clue, services):
    task = _register_task(start_clue, services)
    cm1 = client_for("cm1")
    _upload(cm1, task.id, PDF, "公开材料.pdf")
    _upload(cm1, task.id, b"%PDF-1.4 reporter letter", "检举信.pdf", confidential="1")
    plain, secret = _attachments(services)
    assert secret.confidential
    cm1.post(f"/tasks/{task.id}", data={"action": "complete", "clue_no": "XS-5", "handling_unit": "jc1"})
    so1, so2 = client_for("so1"), client_for("so1b")
    assert so1.get(f"/attachments/{plain.id}").status_code == 200
    assert so1.get(f"/attachments/{secret.id}").status_code == 404  # as if it did not exist
    assert "检举信.pdf" not in so2.get(f"/instances/{plain.instance_id}").get_data(as_text=True)
    assert "检举信.pdf" not in so1.get(f"/instances/{plain.instance_id}").get_data(as_text=True)
    assert client_for("so2").get(f"/attachments/{plain.id}").status_code == 404  # another unit
    with services.db.session() as s:
        reasons = [
            e.detail["reason"]
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied").order_by(AuditEvent.id))
        ]
    assert reasons == ["confidential_attachment", "instance_not_visible"]
