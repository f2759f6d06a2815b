"""The process studio (流程设计): deployed versions, diagrams with live counts, editing, validating, deploying.

For administrators and holders of a role in the ``STUDIO_ROLES`` setting (default ``security_admin``).

- ``/studio/``: every deployed version (who, when, comment, hash) with its processes and instances;
- ``/studio/versions/<v>``: its processes and BPMN files; each file opens in the bpmn-js viewer with the
  number of ready tasks per element drawn over the diagram, or in the modeler;
- ``/studio/validate`` and ``/studio/deploy`` (POST, CSRF token in the ``X-CSRFToken`` header): the latest
  deployed bundle rebuilt from the database (its files, forms, roles and settings) with the edited
  file replaced, compiled by the engine (``compile_bundle``); problems come back as
  ``{file, element, reason}`` and the modeler marks the elements. Deploying unchanged content answers
  ``unchanged: version N``; a file changed by someone else since it was opened is a 409;
- ``/studio/diff``: a text diff of one file between two versions.

Files without a diagram get a generated layout (``layout.py``) so they can be viewed and edited.
"""

from __future__ import annotations

import difflib
import hashlib
import re

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, func, select

from engine.definitions import Bundle, compile_bundle
from engine.definitions.xmlsafe import MAX_BPMN_BYTES
from engine.errors import DeployError
from engine.models import (
    DefinitionFile,
    DefinitionVersion,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
)

from ..security import deny, principal, services
from . import layout

bp = Blueprint("studio", __name__)

FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,200}\.bpmn$")


# --------------------------------------------------------------------------- access
def studio_roles() -> frozenset[str]:
    return frozenset(current_app.config.get("STUDIO_ROLES") or ())


def may_use_studio(p) -> bool:
    return bool(p.is_admin or p.roles & studio_roles())


def _require_studio():
    p = principal()
    if not may_use_studio(p):
        deny("studio_only")
    return p


@bp.app_context_processor
def _nav():
    def studio_allowed() -> bool:
        return current_user.is_authenticated and may_use_studio(current_user.principal)

    return {"studio_allowed": studio_allowed}


# --------------------------------------------------------------------------- queries
def _instance_counts(s, column):
    """Per version (or definition): all instances and those still active."""
    active = func.sum(case((ProcessInstance.status.in_(("running", "suspended", "error")), 1), else_=0))
    return {
        key: (total, int(live or 0))
        for key, total, live in s.execute(select(column, func.count(), active).group_by(column))
    }


def _latest_id(s) -> int | None:
    return services().definitions.latest_version_id(s)


def _version(s, version_id: int):
    row = s.execute(
        select(
            DefinitionVersion.id,
            DefinitionVersion.created_at,
            DefinitionVersion.created_by,
            DefinitionVersion.comment,
            DefinitionVersion.bundle_hash,
        ).where(DefinitionVersion.id == version_id)
    ).one_or_none()
    if row is None:
        abort(404)
    return row


def _file(s, version_id: int, filename: str):
    row = s.execute(
        select(DefinitionFile.filename, DefinitionFile.sha256, DefinitionFile.content).where(
            DefinitionFile.version_id == version_id, DefinitionFile.filename == filename
        )
    ).one_or_none()
    if row is None:
        abort(404)
    return row


def latest_bundle(s) -> tuple[Bundle, int]:
    """The latest deployed bundle, rebuilt from what the database stored (files, forms, roles, settings)."""
    version_id = _latest_id(s)
    if version_id is None:
        abort(409)
    forms, roles, settings = s.execute(
        select(DefinitionVersion.forms, DefinitionVersion.roles, DefinitionVersion.settings).where(
            DefinitionVersion.id == version_id
        )
    ).one()
    files = s.execute(
        select(DefinitionFile.filename, DefinitionFile.content).where(DefinitionFile.version_id == version_id)
    ).all()
    bundle = Bundle(
        bpmn={f.filename: f.content.encode("utf-8") for f in files},
        forms=dict(forms or {}),
        roles=roles or {},
        settings=settings or {},
    )
    return bundle, version_id


# --------------------------------------------------------------------------- pages
@bp.get("/")
@login_required
def index():
    _require_studio()
    with services().db.session() as s:
        versions = s.execute(
            select(
                DefinitionVersion.id,
                DefinitionVersion.created_at,
                DefinitionVersion.created_by,
                DefinitionVersion.comment,
                DefinitionVersion.bundle_hash,
            ).order_by(DefinitionVersion.id.desc())
        ).all()
        processes: dict[int, list] = {}
        for row in s.execute(
            select(
                ProcessDefinition.id,
                ProcessDefinition.version_id,
                ProcessDefinition.process_key,
                ProcessDefinition.name,
                ProcessDefinition.revision,
                ProcessDefinition.stage,
                ProcessDefinition.mechanism,
                ProcessDefinition.platform,
                ProcessDefinition.filename,
            ).order_by(ProcessDefinition.version_id, ProcessDefinition.process_key)
        ):
            processes.setdefault(row.version_id, []).append(row)
        counts = _instance_counts(s, ProcessInstance.version_id)
        by_definition = _instance_counts(s, ProcessInstance.definition_id)
    latest = versions[0].id if versions else None
    return render_template(
        "studio/index.html",
        versions=versions,
        processes=processes,
        counts=counts,
        by_definition=by_definition,
        latest=latest,
    )


@bp.get("/versions/<int:version_id>")
@login_required
def version(version_id: int):
    _require_studio()
    with services().db.session() as s:
        v = _version(s, version_id)
        defs = s.execute(
            select(
                ProcessDefinition.id,
                ProcessDefinition.process_key,
                ProcessDefinition.name,
                ProcessDefinition.revision,
                ProcessDefinition.stage,
                ProcessDefinition.mechanism,
                ProcessDefinition.platform,
                ProcessDefinition.filename,
                ProcessDefinition.executable,
                ProcessDefinition.start_kind,
            )
            .where(ProcessDefinition.version_id == version_id)
            .order_by(ProcessDefinition.filename, ProcessDefinition.process_key)
        ).all()
        files = s.execute(
            select(DefinitionFile.filename, DefinitionFile.sha256)
            .where(DefinitionFile.version_id == version_id)
            .order_by(DefinitionFile.filename)
        ).all()
        previous_id = s.scalar(select(func.max(DefinitionVersion.id)).where(DefinitionVersion.id < version_id))
        previous = (
            dict(
                s.execute(
                    select(DefinitionFile.filename, DefinitionFile.sha256).where(
                        DefinitionFile.version_id == previous_id
                    )
                ).all()
            )
            if previous_id
            else {}
        )
        by_definition = _instance_counts(s, ProcessInstance.definition_id)
        latest = _latest_id(s)
    return render_template(
        "studio/version.html",
        v=v,
        defs=defs,
        files=files,
        previous_id=previous_id,
        previous=previous,
        by_definition=by_definition,
        latest=latest,
    )


@bp.get("/versions/<int:version_id>/files/<filename>")
@login_required
def view(version_id: int, filename: str):
    _require_studio()
    with services().db.session() as s:
        v = _version(s, version_id)
        f = _file(s, version_id, filename)
        defs = s.execute(
            select(ProcessDefinition.process_key, ProcessDefinition.name)
            .where(ProcessDefinition.version_id == version_id, ProcessDefinition.filename == filename)
            .order_by(ProcessDefinition.process_key)
        ).all()
        latest = _latest_id(s)
    return render_template(
        "studio/view.html", v=v, f=f, defs=defs, latest=latest, generated=not layout.has_diagram(f.content)
    )


@bp.get("/versions/<int:version_id>/xml/<filename>")
@login_required
def xml(version_id: int, filename: str):
    """The file as stored, with a generated layout when it has none (for bpmn-js)."""
    _require_studio()
    with services().db.session() as s:
        f = _file(s, version_id, filename)
    content, _generated = layout.ensure_diagram(f.content, filename)
    return Response(content, mimetype="application/xml", headers={"Cache-Control": "no-store"})


@bp.get("/versions/<int:version_id>/overlay/<filename>")
@login_required
def overlay(version_id: int, filename: str):
    """Ready human tasks per BPMN element of this file, over the instances running on this version."""
    _require_studio()
    with services().db.session() as s:
        _file(s, version_id, filename)
        keys = s.scalars(
            select(ProcessDefinition.process_key).where(
                ProcessDefinition.version_id == version_id, ProcessDefinition.filename == filename
            )
        ).all()
        rows = s.execute(
            select(HumanTask.spec_id, func.count())
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(
                ProcessInstance.version_id == version_id,
                HumanTask.status == "ready",
                HumanTask.process_key.in_(keys or [""]),
            )
            .group_by(HumanTask.spec_id)
        ).all()
    return jsonify({"elements": {spec: {"ready": n} for spec, n in rows}})


@bp.get("/edit/<filename>")
@login_required
def edit(filename: str):
    _require_studio()
    with services().db.session() as s:
        latest = _latest_id(s)
        source = request.args.get("version", type=int) or latest
        if latest is None:
            abort(404)
        v = _version(s, source)
        f = _file(s, source, filename)
        in_latest = s.execute(
            select(DefinitionFile.sha256).where(
                DefinitionFile.version_id == latest, DefinitionFile.filename == filename
            )
        ).scalar_one_or_none()
    return render_template(
        "studio/edit.html",
        v=v,
        f=f,
        latest=latest,
        base_sha=in_latest or "",
        generated=not layout.has_diagram(f.content),
    )


@bp.get("/diff")
@login_required
def diff():
    _require_studio()
    filename = (request.args.get("file") or "")[:255]
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if not filename or a is None or b is None:
        abort(404)
    with services().db.session() as s:
        va, vb = _version(s, a), _version(s, b)
        old = s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == a, DefinitionFile.filename == filename)
        )
        new = s.scalar(
            select(DefinitionFile.content).where(DefinitionFile.version_id == b, DefinitionFile.filename == filename)
        )
    if old is None and new is None:
        abort(404)
    lines = list(
        difflib.unified_diff(
            (old or "").splitlines(),
            (new or "").splitlines(),
            fromfile=f"v{a}/{filename}",
            tofile=f"v{b}/{filename}",
            lineterm="",
            n=3,
        )
    )
    return render_template(
        "studio/diff.html", filename=filename, va=va, vb=vb, lines=lines, missing_a=old is None, missing_b=new is None
    )


# --------------------------------------------------------------------------- validate and deploy
def _posted():
    filename = (request.form.get("filename") or "").strip()
    content = request.form.get("xml") or ""
    if not FILENAME.match(filename):
        return None, None, _problem(filename or "-", _("文件名须为字母、数字、下划线、点或连字符，并以 .bpmn 结尾。"))
    if "\x00" in content:
        return None, None, _problem(filename, _("内容不能包含控制字符（NUL）。"))
    data = content.encode("utf-8")
    if not data.strip():
        return None, None, _problem(filename, _("内容为空。"))
    if len(data) > MAX_BPMN_BYTES:
        return None, None, _problem(filename, _("文件过大（上限 %(mb)s MB）。", mb=MAX_BPMN_BYTES // (1024 * 1024)))
    return filename, data, None


def _problem(file: str, reason: str):
    return jsonify({"ok": False, "problems": [{"file": file, "element": None, "reason": reason}]}), 422


def _compile(filename: str, data: bytes):
    with services().db.session() as s:
        bundle, latest = latest_bundle(s)
    try:
        return compile_bundle(bundle.with_bpmn(filename, data)), latest, None
    except DeployError as exc:
        problems = [
            {"file": p.get("file"), "element": p.get("element"), "reason": p.get("reason")} for p in exc.problems
        ]
        return None, latest, (jsonify({"ok": False, "problems": problems, "message": exc.message}), 422)


@bp.post("/validate")
@login_required
def validate():
    _require_studio()
    filename, data, refused = _posted()
    if refused:
        return refused
    _compiled, latest, refused = _compile(filename, data)
    if refused:
        return refused
    return jsonify({"ok": True, "problems": [], "based_on": latest, "message": _("校验通过，没有发现问题。")})


@bp.post("/deploy")
@login_required
def deploy():
    p = _require_studio()
    filename, data, refused = _posted()
    if refused:
        return refused
    comment = (request.form.get("comment") or "").replace("\x00", "").strip()[:2000] or None
    base_sha = (request.form.get("base_sha") or "").strip()
    with services().db.session() as s:
        latest = _latest_id(s)
        current = s.scalar(
            select(DefinitionFile.sha256).where(
                DefinitionFile.version_id == latest, DefinitionFile.filename == filename
            )
        )
    if base_sha and current and current != base_sha and current != hashlib.sha256(data).hexdigest():
        return jsonify(
            {
                "ok": False,
                "conflict": True,
                "version": latest,
                "problems": [],
                "message": _("此文件在您打开后已被他人修改并部署（现为第 %(v)s 版）。请重新打开后再修改。", v=latest),
            }
        ), 409
    compiled, _latest, refused = _compile(filename, data)
    if refused:
        return refused
    version_id, created = services().definitions.deploy(compiled, actor=p.username, comment=comment)
    if not created:
        return jsonify(
            {
                "ok": True,
                "created": False,
                "version": version_id,
                "message": f"unchanged: version {version_id}",
                "text": _("内容未改变：仍为第 %(v)s 版。", v=version_id),
            }
        )
    return jsonify(
        {
            "ok": True,
            "created": True,
            "version": version_id,
            "message": f"deployed: version {version_id}",
            "text": _("已部署为第 %(v)s 版。", v=version_id),
            "url": url_for("studio.version", version_id=version_id),
        }
    )
