"""The documents' use cases: which documents of an instance a person may print, and one download.

Both channels (the instance and task pages, the API) call these. A download is authorized by the same
need-to-know gate as the instance page, reads its record through the one reveal gate
(engine/documents/content.py) and is audited (``document_downloaded``: which document, which format,
which number) in the same transaction as that read; the file is rendered after the commit, so a slow
PDF holds no database transaction open. The PDF and Word libraries (fpdf2 with fontTools and Pillow, python-docx
and docxtpl with lxml: about 40 MB resident together) are imported at the first download, not when the
application starts: most web processes never print (issue 19: a web process under 200 MB).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import bindparam, select

from engine import audit, clock
from engine.access.principal import Principal
from engine.access.reveal import Reveal
from engine.documents import catalogue, content, fonts
from engine.errors import NotFound, NotVisible, ValidationError
from engine.models import ProcessInstance
from engine.organisation.names import unit_names
from engine.services import Services
from engine.tasks.operations import DEFAULT_LOCALE, Download, person_locale, reading_scope

FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


_VERSION_OF = select(ProcessInstance.version_id).where(ProcessInstance.id == bindparam("instance_id"))


def _version(services: Services, s: object, instance_id: int) -> int:
    version_id = s.scalar(_VERSION_OF, {"instance_id": instance_id})  # type: ignore[attr-defined]
    if version_id is None:
        raise NotFound(f"instance {instance_id} not found", instance=instance_id)
    return int(version_id)


def list_documents(services: Services, principal: Principal, instance_id: int) -> list[content.Available]:
    """The documents of the instance the person may print; 404 for someone who may not see the instance
    (as its page answers), and an empty list for one who sees it but may read none of their records."""
    with services.db.session() as s:
        version_id = _version(services, s, instance_id)
        scope = reading_scope(s, services, principal, instance_id, version_id)
        if scope.kind == "none":
            raise NotVisible(f"instance {instance_id} not found", reason="instance_not_visible", instance=instance_id)
        specs = catalogue.specs(services.definitions.loaded(version_id).settings)
        return content.available(s, scope, instance_id, specs)


def download_document(
    services: Services,
    principal: Principal,
    instance_id: int,
    kind: str,
    fmt: str,
    *,
    reveal: Reveal,
    locale: str | None = None,
) -> Download:
    """One document of the instance as PDF or DOCX, with its ``document_downloaded`` audit event."""
    if fmt not in FORMATS:
        raise ValidationError("文件格式只能是 pdf 或 docx", fields={"format": "只能是 pdf 或 docx"})
    if fmt == "pdf":
        fonts.find_font()  # refuse before anything is read or audited
    with services.db.session() as s:
        version_id = _version(services, s, instance_id)
        scope = reading_scope(s, services, principal, instance_id, version_id)
        if scope.kind == "none":
            raise NotVisible(f"instance {instance_id} not found", reason="instance_not_visible", instance=instance_id)
        loaded = services.definitions.loaded(version_id)
        spec = catalogue.specs(loaded.settings).get(kind)
        if spec is None:
            raise NotFound(f"no document '{kind}' in this process", document=kind)
        built = content.build(
            s,
            principal,
            reveal,
            scope,
            spec=spec,
            instance_id=instance_id,
            forms_of_version=loaded.forms,
            units=unit_names(services),
            locale=locale or person_locale(s, principal) or DEFAULT_LOCALE,
        )
        if built is None:
            raise NotFound(f"document '{kind}' has no record yet", document=kind, instance=instance_id)
        audit.record(
            s,
            "document_downloaded",
            actor=principal.username,
            instance_id=instance_id,
            document=kind,
            format=fmt,
            number=built.number or None,
        )
    printed_by = f"{principal.display_name or principal.username} 于 {clock.local_now():%Y-%m-%d %H:%M} 自贯通系统导出"
    data = _render(fmt, built, printed_by)
    name = f"{built.title}-{built.number or built.case_key or instance_id}.{fmt}".replace("/", "-")

    def chunks() -> Iterator[bytes]:
        yield data

    return Download(chunks=chunks(), filename=name, content_type=FORMATS[fmt], size=len(data))


def _render(fmt: str, built: content.DocumentContent, printed_by: str) -> bytes:
    """The file in ``fmt``; its library is imported here, on the first download, not at start."""
    if fmt == "pdf":
        from engine.documents import pdf

        return pdf.render(built, printed_by=printed_by)
    from engine.documents import word

    return word.render(built, printed_by=printed_by)
