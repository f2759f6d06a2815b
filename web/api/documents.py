"""Documents (公文) of a case: which the caller may print, and one as PDF or DOCX.

The same use cases as the pages (engine/documents/operations.py): the need-to-know gate decides, a
sealed field is printed masked for anyone who may not read it, and every download is audited.
"""

from __future__ import annotations

import marshmallow as ma
from flask import Response
from flask_smorest import Blueprint
from marshmallow import fields

from engine.documents import operations as documents

from ..tasks import _disposition
from ..usecases import reveal
from .common import documents as statuses
from .common import principal, services

blp = Blueprint("Documents", __name__, description="Documents (公文) printed from a case's records")

INSTANCE = "<int(min=1, max=2147483647):instance_id>"


class DocumentSchema(ma.Schema):
    kind = fields.String(required=True, metadata={"description": "the document's name in settings.yaml"})
    title = fields.String(required=True)
    number = fields.String(required=True, metadata={"description": "its 文号 or 编号; empty when none"})
    formats = fields.List(fields.String(), required=True)


@blp.route(f"/instances/{INSTANCE}/documents", methods=["GET"])
@blp.response(200, DocumentSchema(many=True))
@statuses(blp, 401, 404)
def list_documents(instance_id: int):
    """The documents of the instance the caller may print (an empty list outside its records)."""
    return [
        {"kind": d.kind, "title": d.title, "number": d.number, "formats": list(documents.FORMATS)}
        for d in documents.list_documents(services(), principal(), instance_id)
    ]


def _send(instance_id: int, kind: str, fmt: str) -> Response:
    found = documents.download_document(services(), principal(), instance_id, kind, fmt, reveal=reveal())
    response = Response(b"".join(found.chunks), mimetype=found.content_type)
    response.headers["Content-Disposition"] = _disposition(found.filename)
    return response


@blp.route(f"/instances/{INSTANCE}/documents/<name:kind>/pdf", methods=["GET"])
@blp.response(200, content_type=documents.FORMATS["pdf"], description="the document as PDF (GB/T 9704 layout)")
@statuses(blp, 401, 404, 503)
def download_pdf(instance_id: int, kind: str):
    """One document as PDF, audited as ``document_downloaded``."""
    return _send(instance_id, kind, "pdf")


@blp.route(f"/instances/{INSTANCE}/documents/<name:kind>/docx", methods=["GET"])
@blp.response(200, content_type=documents.FORMATS["docx"], description="the document as a Word file")
@statuses(blp, 401, 404)
def download_docx(instance_id: int, kind: str):
    """One document as DOCX, audited as ``document_downloaded``."""
    return _send(instance_id, kind, "docx")
