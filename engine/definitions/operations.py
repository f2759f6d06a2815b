"""The process studio's use cases: browse deployed versions, read and compare their files, validate, deploy.

Each function takes the ``Services``, the acting ``Principal`` and plain arguments, authorizes here (so
the studio pages, the command line and any later API apply one rule), runs in one transaction and
returns frozen dataclasses, never ORM rows. Only the system administrator and holders of a role in
``Config.studio_roles`` (default ``security_admin``, environment ``GUANTONG_STUDIO_ROLES``) design
processes: a deployed version decides who sees which case, so changing it is a security act, and a
deploy from the studio takes effect only when a security administrator other than the designer approves
it (三员分立: ``request_deploy`` stores the request, ``engine.approvals.operations`` decides it and calls
``apply_deploy``). The console (``guantong deploy``, the installation operator holding the database
credentials) deploys at once, audited as such: a fresh machine's ``make run`` stays one command.

Validate and deploy share one pipeline (``_compiled``: the file checks, then ``compile_bundle``): the
file checks a browser upload needs (name, NUL, empty, size) apply to every file of every bundle, from the studio's
edited file and from ``guantong deploy`` alike. A deploy stores a new immutable version and its
``deployed`` audit event together, or nothing; a file edited from an older version than the one
deployed since is a ``Conflict``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.access.principal import SYSTEM, SYSTEM_PRINCIPAL, Principal
from engine.approvals import requests
from engine.definitions import bpmndiff
from engine.definitions.bundle import Bundle
from engine.definitions.compiler import CompiledBundle, compile_bundle
from engine.definitions.xmlsafe import MAX_BPMN_BYTES
from engine.errors import Conflict, DeployError, Forbidden, NotFound
from engine.models import DefinitionFile, DefinitionVersion, HumanTask, ProcessDefinition, ProcessInstance

if TYPE_CHECKING:
    from engine.services import Services

FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,200}\.bpmn$")
LIVE = ("running", "suspended", "error")
MAX_COMMENT = 2000
DEPLOY_LOCK = 0x67756164  # PostgreSQL advisory lock key: one deploy at a time


# --------------------------------------------------------------------------- who may design
def may_design(services: Services, principal: Principal) -> bool:
    """The system administrator and holders of a studio role; a pure check, cheap enough for the navigation bar."""
    return bool(principal.is_system_admin or principal.is_system or principal.roles & services.config.studio_roles)


def require_designer(services: Services, principal: Principal) -> None:
    if not may_design(services, principal):
        raise Forbidden("only process designers may use the studio", reason="studio_only", user=principal.username)


def operator(actor: str | None = None) -> Principal:
    """The person at the command line: whoever holds the database credentials acts as the engine itself
    (the installation operator's bootstrap, ``Principal.console``).

    They deploy under the name they give (recorded as the version's author and in the audit trail).
    """
    if not actor or actor == SYSTEM:
        return SYSTEM_PRINCIPAL
    return Principal(username=actor, display_name=actor, console=True)


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Counts:
    """Instances started on a version or definition: all of them, and those not yet finished."""

    total: int = 0
    live: int = 0


@dataclass(frozen=True)
class VersionInfo:
    id: int
    created_at: dt.datetime
    created_by: str | None
    comment: str | None
    bundle_hash: str
    processes: int = 0
    instances: Counts = Counts()


@dataclass(frozen=True)
class ProcessInfo:
    id: int
    version_id: int
    process_key: str
    name: str
    revision: int
    stage: str | None
    mechanism: str | None
    platform: str | None
    filename: str
    executable: bool
    start_kind: str
    instances: Counts = Counts()


@dataclass(frozen=True)
class Overview:
    """Every version, newest first, and the processes of the latest one."""

    versions: tuple[VersionInfo, ...]
    latest: int | None
    processes: tuple[ProcessInfo, ...]


@dataclass(frozen=True)
class FileInfo:
    filename: str
    sha256: str
    change: str | None = None  # against the previous version: "added", "changed" or None


@dataclass(frozen=True)
class VersionDetail:
    version: VersionInfo
    latest: int | None
    previous_id: int | None
    files: tuple[FileInfo, ...]
    processes: tuple[ProcessInfo, ...]
    forms: tuple[str, ...]


@dataclass(frozen=True)
class VersionFile:
    """One BPMN file of a version, with the processes it defines (key, name) and the latest version's id."""

    version: VersionInfo
    latest: int | None
    filename: str
    sha256: str
    content: str
    processes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Draft:
    """A file opened for editing; ``base_sha`` is its hash in the latest version ("" when it is new there).

    Deploying the edit sends ``base_sha`` back, so an edit of a file someone else has changed since is caught.
    """

    version: VersionInfo
    latest: int
    filename: str
    content: str
    base_sha: str


@dataclass(frozen=True)
class FileDiff:
    filename: str
    a: VersionInfo
    b: VersionInfo
    lines: tuple[str, ...]  # a unified diff, empty when both versions hold the same text
    missing_a: bool
    missing_b: bool
    # element by element (added, removed, changed with their properties) and the forms its tasks name
    structure: bpmndiff.BpmnDiff = dataclasses.field(default_factory=bpmndiff.BpmnDiff)


@dataclass(frozen=True)
class VersionDiff:
    """What changed from version ``a`` to ``b``: BPMN files and forms by name, roles and settings as a whole."""

    a: int
    b: int
    files_added: tuple[str, ...]
    files_removed: tuple[str, ...]
    files_changed: tuple[str, ...]
    forms_added: tuple[str, ...]
    forms_removed: tuple[str, ...]
    forms_changed: tuple[str, ...]
    roles_changed: bool
    settings_changed: bool


@dataclass(frozen=True)
class Problem:
    """One finding: the file, the BPMN element (or form field) when known, and why.

    ``code`` names the kind (the file checks below, the compiler's flow and data-flow rules) and
    ``params`` its particulars (the variable, the flow), so a page can say it in the reader's language;
    ``name`` is the element's name in the diagram.
    """

    file: str
    element: str | None
    reason: str
    code: str | None = None
    name: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, found: Mapping[str, Any]) -> Problem:
        """From a ``DeployError.problems`` entry."""
        return cls(
            file=found.get("file") or "-",
            element=found.get("element"),
            reason=str(found.get("reason")),
            code=found.get("code"),
            name=found.get("name"),
            params=tuple(sorted((str(k), str(v)) for k, v in (found.get("params") or {}).items())),
        )

    def as_dict(self) -> dict[str, str | None]:
        return {"file": self.file, "element": self.element, "name": self.name, "reason": self.reason}


@dataclass(frozen=True)
class Validation:
    based_on: int | None  # the version whose other files, forms, roles and settings were used
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()  # shown and marked, not refusing a deploy (lint.py WARNING)
    # the edited file against the latest version: what a deploy confirmation shows before it is asked for
    changes: bpmndiff.BpmnDiff = dataclasses.field(default_factory=bpmndiff.BpmnDiff)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Deployment:
    version_id: int
    created: bool  # False: the same content was already deployed as this version
    based_on: int | None = None  # the latest version when the deploy began


@dataclass(frozen=True)
class DeployRequest:
    """A studio deploy waiting for a second person's approval (``engine.approvals``)."""

    request_id: int
    filename: str
    based_on: int  # the latest version when it was requested
    forms: tuple[str, ...] = ()  # the keys of the forms edited in the same session, deployed with the file


@dataclass(frozen=True)
class FormEdit:
    """A form edited in the studio's form editor in the same session as a diagram: its key, the edited
    JSON Schema as text, and the stored form's hash when it was opened ("" for a new form)."""

    key: str
    text: str
    base_sha: str = ""


# --------------------------------------------------------------------------- browse
def list_versions(services: Services, principal: Principal) -> Overview:
    require_designer(services, principal)
    with services.db.session() as s:
        by_version = _instance_counts(s, ProcessInstance.version_id)
        process_counts = dict(
            s.execute(select(ProcessDefinition.version_id, func.count()).group_by(ProcessDefinition.version_id)).all()
        )
        versions = tuple(
            _version_info(row, process_counts.get(row.id, 0), by_version.get(row.id, Counts()))
            for row in s.execute(_VERSION.order_by(DefinitionVersion.id.desc()))
        )
        latest = versions[0].id if versions else None
        processes = _processes(s, latest) if latest is not None else ()
    return Overview(versions=versions, latest=latest, processes=processes)


def show_version(services: Services, principal: Principal, version_id: int) -> VersionDetail:
    require_designer(services, principal)
    with services.db.session() as s:
        version = _version(s, version_id)
        files = _file_hashes(s, version_id)
        previous_id = s.scalar(select(func.max(DefinitionVersion.id)).where(DefinitionVersion.id < version_id))
        previous = _file_hashes(s, previous_id) if previous_id is not None else {}
        forms = s.scalar(select(DefinitionVersion.forms).where(DefinitionVersion.id == version_id)) or {}
        processes = _processes(s, version_id)
        return VersionDetail(
            version=version,
            latest=services.definitions.latest_version_id(s),
            previous_id=previous_id,
            files=tuple(
                FileInfo(name, sha, _change(previous.get(name), sha) if previous_id is not None else None)
                for name, sha in sorted(files.items())
            ),
            processes=tuple(sorted(processes, key=lambda p: (p.filename, p.process_key))),
            forms=tuple(sorted(forms)),
        )


def read_file(services: Services, principal: Principal, version_id: int, filename: str) -> VersionFile:
    """A BPMN file as stored in a version (the viewer's page and the XML bpmn-js loads)."""
    require_designer(services, principal)
    with services.db.session() as s:
        version = _version(s, version_id)
        sha, content = _file(s, version_id, filename)
        defined = s.execute(
            select(ProcessDefinition.process_key, ProcessDefinition.name)
            .where(ProcessDefinition.version_id == version_id, ProcessDefinition.filename == filename)
            .order_by(ProcessDefinition.process_key)
        ).all()
        return VersionFile(
            version=version,
            latest=services.definitions.latest_version_id(s),
            filename=filename,
            sha256=sha,
            content=content,
            processes=tuple((key, name) for key, name in defined),
        )


def read_form(services: Services, principal: Principal, version_id: int, form_key: str) -> dict[str, Any]:
    """A form (its JSON Schema) as deployed in a version; a copy, so the caller may change it freely."""
    require_designer(services, principal)
    with services.db.session() as s:
        _version(s, version_id)
        forms = s.scalar(select(DefinitionVersion.forms).where(DefinitionVersion.id == version_id)) or {}
    if form_key not in forms:
        raise NotFound(f"form {form_key} not in version {version_id}", version=version_id, form=form_key)
    return copy.deepcopy(dict(forms[form_key]))


def overlay(services: Services, principal: Principal, version_id: int, filename: str) -> dict[str, dict[str, int]]:
    """Where this version's instances wait in one file: ready human tasks per BPMN element id."""
    require_designer(services, principal)
    with services.db.session() as s:
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
    return {spec_id: {"ready": int(n)} for spec_id, n in rows}


def open_for_edit(services: Services, principal: Principal, filename: str, version_id: int | None = None) -> Draft:
    """A file to edit, from ``version_id`` (default: the latest); deploying it replaces it in the latest version."""
    require_designer(services, principal)
    with services.db.session() as s:
        latest = services.definitions.latest_version_id(s)
        if latest is None:
            raise NotFound("nothing is deployed yet", file=filename)
        source = version_id or latest
        version = _version(s, source)
        _sha, content = _file(s, source, filename)
        base = _file_hashes(s, latest).get(filename, "")
    return Draft(version=version, latest=latest, filename=filename, content=content, base_sha=base)


def diff_file(services: Services, principal: Principal, filename: str, a: int, b: int) -> FileDiff:
    """One file from version ``a`` to ``b``: its elements added, removed and changed (with the changed
    properties, Guantong's extension properties each on its own), the changes of the forms its tasks
    name, and the unified text diff; missing on both sides is NotFound."""
    require_designer(services, principal)
    with services.db.session() as s:
        va, vb = _version(s, a), _version(s, b)
        old, new = _content(s, a, filename), _content(s, b, filename)
        forms: dict[int, Any] = dict(
            s.execute(
                select(DefinitionVersion.id, DefinitionVersion.forms).where(DefinitionVersion.id.in_((a, b)))
            ).all()
        )
    if old is None and new is None:
        raise NotFound(f"file {filename} is in neither version", file=filename)
    structure = bpmndiff.diff_files(old, new, filename)
    keys = bpmndiff.form_keys(old) | bpmndiff.form_keys(new)
    structure = dataclasses.replace(structure, forms=bpmndiff.diff_forms(forms.get(a) or {}, forms.get(b) or {}, keys))
    lines = difflib.unified_diff(
        (old or "").splitlines(),
        (new or "").splitlines(),
        fromfile=f"v{a}/{filename}",
        tofile=f"v{b}/{filename}",
        lineterm="",
        n=3,
    )
    return FileDiff(
        filename=filename,
        a=va,
        b=vb,
        lines=tuple(lines),
        missing_a=old is None,
        missing_b=new is None,
        structure=structure,
    )


def diff_versions(services: Services, principal: Principal, a: int, b: int) -> VersionDiff:
    """Which files and forms version ``b`` added, removed or changed against ``a``."""
    require_designer(services, principal)
    with services.db.session() as s:
        _version(s, a)
        _version(s, b)
        files_a, files_b = _file_hashes(s, a), _file_hashes(s, b)
        rows = {
            row.id: row
            for row in s.execute(
                select(
                    DefinitionVersion.id, DefinitionVersion.forms, DefinitionVersion.roles, DefinitionVersion.settings
                ).where(DefinitionVersion.id.in_((a, b)))
            )
        }
    forms_a, forms_b = rows[a].forms or {}, rows[b].forms or {}
    return VersionDiff(
        a=a,
        b=b,
        **_named_changes("files", files_a, files_b),
        **_named_changes("forms", forms_a, forms_b),
        roles_changed=(rows[a].roles or {}) != (rows[b].roles or {}),
        settings_changed=(rows[a].settings or {}) != (rows[b].settings or {}),
    )


# --------------------------------------------------------------------------- validate and deploy
def validate_file(
    services: Services, principal: Principal, filename: str, content: str | bytes, forms: Sequence[FormEdit] = ()
) -> Validation:
    """The latest version with one file added or replaced (and the forms edited with it), checked as a
    deploy would; nothing is stored."""
    from engine.definitions import forms_studio

    require_designer(services, principal)
    with services.db.session() as s:
        bundle, latest = _edited(services, s, filename, content)
        before = _content(s, latest, filename)
    try:
        edits = _form_edits(forms)
    except DeployError as exc:
        return Validation(based_on=latest, problems=tuple(Problem.of(p) for p in exc.problems))
    still: list[Problem] = []
    for key, schema, _sha in edits:
        still += forms_studio._still_read(bundle, key, schema)
        bundle = forms_studio.with_form(bundle, key, schema)
    problems, warnings = _problems_of(bundle)
    problems = still + problems
    return Validation(
        based_on=latest,
        problems=tuple(problems),
        warnings=tuple(w for w in warnings if w.file == filename),
        changes=bpmndiff.diff_files(before, _bytes(content), filename),
    )


def validate_bundle(services: Services, principal: Principal, bundle: Bundle) -> Validation:
    """A whole bundle (the library on disk, an upload) checked as a deploy would; nothing is stored."""
    require_designer(services, principal)
    with services.db.session() as s:
        latest = services.definitions.latest_version_id(s)
    problems, warnings = _problems_of(bundle)
    return Validation(based_on=latest, problems=tuple(problems), warnings=tuple(warnings))


def request_deploy(
    services: Services,
    principal: Principal,
    filename: str,
    content: str | bytes,
    *,
    base_sha: str = "",
    comment: str | None = None,
    forms: Sequence[FormEdit] = (),
) -> DeployRequest:
    """Ask to replace one file of the latest version (the studio's 部署); it takes effect when a security
    administrator other than the designer approves it (``engine.approvals.operations.approve``).

    ``forms`` are the forms edited in the same session (the form editor's drafts): one request, one
    approval and one new version carry the diagram and its forms together, so an approver reads the
    whole change and no version holds half of it. The edit is checked as a deploy would be now, so
    nobody is asked to approve a broken change, and again when approved. ``base_sha`` is the file's
    hash (a form's: ``FormEdit.base_sha``) in the latest version when the designer opened it: a file or
    form someone has deployed another change to since is a ``Conflict`` now and at approval.
    """
    from engine.definitions import forms_studio

    require_designer(services, principal)
    data = _bytes(content)
    edits = _form_edits(forms)
    with services.db.session() as s:
        bundle, latest = _edited(services, s, filename, data)
        _check_base(s, filename, data, base_sha, latest)
        stored = services.definitions.stored_bundle(s, latest)
        still: list[Problem] = []
        for key, schema, sha in edits:
            forms_studio.check_base(stored.forms.get(key), key, schema, sha, latest)
            still += forms_studio._still_read(bundle, key, schema)
            bundle = forms_studio.with_form(bundle, key, schema)
        if still:
            raise DeployError(
                f"deploy refused: {len(still)} problem(s) found; nothing was deployed",
                problems=[{**p.as_dict(), "code": p.code, "params": dict(p.params)} for p in still],
            )
        _compiled(bundle)
        keys = tuple(key for key, _schema, _sha in edits)
        request_id = requests.open_request(
            s,
            principal,
            requests.DEPLOY,
            summary=f"{filename}{''.join(f' + forms/{k}.json' for k in keys)} (v{latest})",
            payload={
                "filename": filename,
                "content": data.decode("utf-8"),
                "base_sha": base_sha,
                "based_on": latest,
                "comment": _comment(comment),
                **(
                    {
                        "forms": [
                            {
                                "form_key": key,
                                "content": json.dumps(schema, ensure_ascii=False, indent=2),
                                "base_sha": sha,
                            }
                            for key, schema, sha in edits
                        ]
                    }
                    if edits
                    else {}
                ),
            },
        )
    return DeployRequest(request_id=request_id, filename=filename, based_on=latest, forms=keys)


def _form_edits(forms: Sequence[FormEdit]) -> list[tuple[str, dict[str, Any], str]]:
    """Each edited form read as a deploy reads it (key, JSON, JSON Schema); the first unreadable one, or a
    form given twice, refuses the whole request before anything is stored."""
    from engine.definitions import forms_studio

    edits: list[tuple[str, dict[str, Any], str]] = []
    for edit in forms:
        if not forms_studio.FORM_KEY.match(edit.key or ""):
            raise DeployError(
                f"deploy refused: {edit.key!r} is not a form key",
                problems=[
                    {
                        "file": f"forms/{edit.key}.json",
                        "element": None,
                        "reason": "not a form key: lower-case letters, digits and '_'",
                        "code": None,
                    }
                ],
            )
        if any(key == edit.key for key, _schema, _sha in edits):
            raise DeployError(
                f"deploy refused: forms/{edit.key}.json is given twice",
                problems=[{"file": f"forms/{edit.key}.json", "element": None, "reason": "given twice", "code": None}],
            )
        schema, problems = forms_studio._parse(edit.key, edit.text)
        if schema is None:
            raise DeployError(
                f"deploy refused: forms/{edit.key}.json cannot be read",
                problems=[{**p.as_dict(), "code": p.code, "params": dict(p.params)} for p in problems],
            )
        edits.append((edit.key, schema, edit.base_sha))
    return edits


def apply_deploy(
    services: Services, s: Session, payload: Mapping[str, Any], *, requested_by: str, approval: Mapping[str, Any]
) -> Deployment:
    """Deploy an approved request in the approver's transaction; the version names the designer as its
    author and its ``deployed`` event carries the approval (who asked, who approved, which request)."""
    filename, data = str(payload["filename"]), str(payload["content"]).encode("utf-8")
    _one_deploy_at_a_time(s)
    if payload.get("form_key"):  # a form edited in the studio (engine/definitions/forms_studio.py)
        from engine.definitions import forms_studio

        key, schema = str(payload["form_key"]), json.loads(data)
        latest_id = services.definitions.latest_version_id(s)
        if latest_id is None:
            raise Conflict("nothing is deployed yet: deploy the process library first", file=filename)
        stored = services.definitions.stored_bundle(s, latest_id)
        forms_studio.check_base(stored.forms.get(key), key, schema, str(payload.get("base_sha") or ""), latest_id)
        bundle, latest = forms_studio.with_form(stored, key, schema), latest_id
    else:
        bundle, latest = _edited(services, s, filename, data)
        _check_base(s, filename, data, str(payload.get("base_sha") or ""), latest)
        if payload.get("forms"):  # the forms edited in the same session: one version with the diagram
            from engine.definitions import forms_studio

            stored = services.definitions.stored_bundle(s, latest)
            for form in payload["forms"]:
                key, schema = str(form["form_key"]), json.loads(str(form["content"]))
                forms_studio.check_base(stored.forms.get(key), key, schema, str(form.get("base_sha") or ""), latest)
                bundle = forms_studio.with_form(bundle, key, schema)
    compiled = _compiled(bundle)
    version_id, created = services.definitions.store(
        s, compiled, actor=requested_by, comment=payload.get("comment"), detail=dict(approval)
    )
    return Deployment(version_id=version_id, created=created, based_on=latest)


def _check_base(s: Session, filename: str, data: bytes, base_sha: str, latest: int) -> None:
    current = _file_hashes(s, latest, filename).get(filename)
    if base_sha and current and current not in (base_sha, hashlib.sha256(data).hexdigest()):
        raise Conflict(
            f"{filename} was changed by version {latest} after it was opened",
            file=filename,
            version=latest,
            reason="stale_base",
        )


def deploy_bundle(
    services: Services, principal: Principal, bundle: Bundle, *, comment: str | None = None
) -> Deployment:
    """Deploy a whole bundle at once (``guantong deploy``, ``Services.deploy_path``) with the studio's checks.

    Only from the console: the installation operator, who holds the database credentials, deploys the
    library of a fresh machine without a second person (there is nobody yet to approve), and the
    ``deployed`` event says so (``console``). Everyone else asks through ``request_deploy``.
    """
    if not principal.is_system:
        raise Forbidden(
            "a deploy outside the console needs a second person's approval",
            reason="sanyuan_deploy_needs_approval",
            user=principal.username,
        )
    with services.db.session() as s:
        _one_deploy_at_a_time(s)
        latest = services.definitions.latest_version_id(s)
        compiled = _compiled(bundle)
        version_id, created = services.definitions.store(
            s, compiled, actor=principal.username, comment=_comment(comment), detail={"console": True}
        )
    return Deployment(version_id=version_id, created=created, based_on=latest)


def _one_deploy_at_a_time(s: Session) -> None:
    """Two designers deploying at once: the second waits, then builds on the first one's version.

    Without this both would start from the same latest version and the later one would drop the earlier
    one's change. PostgreSQL only; SQLite (one process, development) keeps the short window between
    reading the latest version and storing the new one.
    """
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEPLOY_LOCK})


def _edited(services: Services, s: Session, filename: str, content: str | bytes) -> tuple[Bundle, int]:
    latest = services.definitions.latest_version_id(s)
    if latest is None:
        raise Conflict("nothing is deployed yet: deploy the process library first", file=filename)
    return services.definitions.stored_bundle(s, latest).with_bpmn(filename, _bytes(content)), latest


def _compiled(bundle: Bundle) -> CompiledBundle:
    problems = _file_problems(bundle)
    if problems:
        raise DeployError(
            f"deploy refused: {len(problems)} problem(s) found; nothing was deployed",
            problems=[{**p.as_dict(), "code": p.code} for p in problems],
        )
    return compile_bundle(bundle)


def _problems_of(bundle: Bundle) -> tuple[list[Problem], list[Problem]]:
    """Every problem a deploy of this bundle would be refused for (the file checks first), and the warnings."""
    try:
        compiled = _compiled(bundle)
    except DeployError as exc:
        warnings = [Problem.of(w) for w in exc.details.get("warnings") or []]
        return [Problem.of(p) for p in exc.problems] or [Problem(file="-", element=None, reason=exc.message)], warnings
    return [], [Problem.of(w) for w in compiled.warnings]


def _file_problems(bundle: Bundle) -> list[Problem]:
    """What a browser upload or a hand-made file can get wrong before the XML is even read."""
    found = []
    for name, data in sorted(bundle.bpmn.items()):
        if not FILENAME.match(name):
            found.append(
                Problem(name or "-", None, "file name: letters, digits, '_', '.', '-', ending in .bpmn", "bad_filename")
            )
        elif b"\x00" in data:
            found.append(Problem(name, None, "the content contains a NUL character", "nul"))
        elif not data.strip():
            found.append(Problem(name, None, "the file is empty", "empty"))
        elif len(data) > MAX_BPMN_BYTES:
            found.append(Problem(name, None, f"larger than {MAX_BPMN_BYTES // (1024 * 1024)} MB", "too_large"))
    return found


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _comment(comment: str | None) -> str | None:
    return (comment or "").replace("\x00", "").strip()[:MAX_COMMENT] or None


# --------------------------------------------------------------------------- queries
# A version's own facts; statements are immutable, so one is shared and refined per query.
_VERSION = select(
    DefinitionVersion.id,
    DefinitionVersion.created_at,
    DefinitionVersion.created_by,
    DefinitionVersion.comment,
    DefinitionVersion.bundle_hash,
)


def _version_info(row: Any, processes: int = 0, instances: Counts = Counts()) -> VersionInfo:
    return VersionInfo(**row._asdict(), processes=processes, instances=instances)


def _version(s: Session, version_id: int) -> VersionInfo:
    row = s.execute(_VERSION.where(DefinitionVersion.id == version_id)).one_or_none()
    if row is None:
        raise NotFound(f"definition version {version_id} not found", version=version_id)
    processes = s.scalar(select(func.count()).where(ProcessDefinition.version_id == version_id)) or 0
    return _version_info(row, processes)


def _file(s: Session, version_id: int, filename: str) -> tuple[str, str]:
    row = s.execute(
        select(DefinitionFile.sha256, DefinitionFile.content).where(
            DefinitionFile.version_id == version_id, DefinitionFile.filename == filename
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"file {filename} not in version {version_id}", version=version_id, file=filename)
    return row.sha256, row.content


def _content(s: Session, version_id: int, filename: str) -> str | None:
    return s.scalar(
        select(DefinitionFile.content).where(
            DefinitionFile.version_id == version_id, DefinitionFile.filename == filename
        )
    )


def _file_hashes(s: Session, version_id: int, filename: str | None = None) -> dict[str, str]:
    query = select(DefinitionFile.filename, DefinitionFile.sha256).where(DefinitionFile.version_id == version_id)
    if filename is not None:
        query = query.where(DefinitionFile.filename == filename)
    return dict(s.execute(query).all())


def _processes(s: Session, version_id: int) -> tuple[ProcessInfo, ...]:
    counts = _instance_counts(s, ProcessInstance.definition_id, ProcessInstance.version_id == version_id)
    rows = s.execute(
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
            ProcessDefinition.executable,
            ProcessDefinition.start_kind,
        )
        .where(ProcessDefinition.version_id == version_id)
        .order_by(ProcessDefinition.process_key)
    )
    return tuple(ProcessInfo(**row._asdict(), instances=counts.get(row.id, Counts())) for row in rows)


def _instance_counts(s: Session, column: Any, *where: ColumnElement[bool]) -> dict[int, Counts]:
    """Per version (or definition): all instances and those still active."""
    live = func.sum(case((ProcessInstance.status.in_(LIVE), 1), else_=0))
    query = select(column, func.count(), live).where(*where).group_by(column)
    return {key: Counts(int(total), int(active or 0)) for key, total, active in s.execute(query)}


def _change(before: str | None, after: str) -> str | None:
    if before is None:
        return "added"
    return "changed" if before != after else None


def _named_changes(kind: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {
        f"{kind}_added": tuple(sorted(set(b) - set(a))),
        f"{kind}_removed": tuple(sorted(set(a) - set(b))),
        f"{kind}_changed": tuple(sorted(name for name in set(a) & set(b) if a[name] != b[name])),
    }
