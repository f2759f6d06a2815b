"""Documents (公文) of a case for the pages: the list on the instance and task pages, and a download.

The view only translates HTTP: engine/documents/operations.py decides who may print what, reads the
record through the need-to-know and reveal gates and audits the download.
"""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import current_user, login_required

from engine.documents import operations as documents
from engine.errors import NotVisible

from .security import principal, select_locale, services
from .tasks import _disposition
from .usecases import on_page, reveal

bp = Blueprint("documents", __name__)


@bp.app_template_global("case_documents")
def case_documents(instance_id: int) -> list[documents.content.Available]:
    """The documents of an instance the signed-in person may print (for ``_documents.html``)."""
    if not current_user.is_authenticated:
        return []
    try:
        return documents.list_documents(services(), principal(), instance_id)
    except NotVisible:  # a page that shows the instance shows it to its readers; nothing else to list
        return []


@bp.get("/instances/<int:instance_id>/documents/<kind>.<any(pdf, docx):doc_format>")
@login_required
def download(instance_id: int, kind: str, doc_format: str):
    found = on_page(
        documents.download_document,
        services(),
        principal(),
        instance_id,
        kind,
        doc_format,
        reveal=reveal(),
        locale=select_locale(),
    )
    response = Response(found.chunks, mimetype=found.content_type, direct_passthrough=True)
    response.content_length = found.size
    response.headers["Content-Disposition"] = _disposition(found.filename)
    response.headers["Cache-Control"] = "no-store"
    return response
