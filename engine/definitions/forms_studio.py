"""The studio's form editor (issue 17): open a form of the latest version (or a new one), check an
edited JSON Schema as a deploy would, and ask to deploy it.

A form is a file beside the BPMN files (``processes/forms/<key>.json``); like an edited diagram, an
edited form lives in the designer's browser until deploy, and the deploy request stores it (the
approval request's payload) until a security administrator other than the designer approves it
(``operations.apply_deploy``). The check compiles the whole latest bundle with the form replaced, so a
field a task still ``reads`` (need-to-know) or a gateway still tests cannot silently disappear; the
preview's fields are built by the very function that builds an officer's task form
(``engine.forms.schema.fields``), with the pickers' real choices.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from engine.access.principal import Principal
from engine.approvals import requests
from engine.definitions.operations import DeployRequest, Problem, _compiled, _problems_of, require_designer
from engine.definitions.xmlsafe import parse_xml
from engine.errors import Conflict, DeployError, NotFound
from engine.forms import schema as forms

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from engine.services import Services

FORM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,80}$")
MAX_FORM_BYTES = 256 * 1024


@dataclass(frozen=True)
class FormUse:
    process: str
    task: str
    name: str


@dataclass(frozen=True)
class FormDraft:
    key: str
    text: str  # the schema as the editor shows it (indented JSON)
    exists: bool
    latest: int
    base_sha: str  # the stored form's hash when opened: a form changed since is a Conflict at deploy
    used_by: tuple[FormUse, ...]


@dataclass(frozen=True)
class FormCheck:
    problems: tuple[Problem, ...]
    fields: tuple[forms.Field, ...]  # for the preview, empty when the schema cannot be read
    process_fields: tuple[str, ...]  # copied into the process data (x-process): what the process reads
    used_by: tuple[FormUse, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def form_hash(schema: Any) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def open_form(services: Services, principal: Principal, key: str) -> FormDraft:
    """The form ``key`` of the latest version to edit; an unknown (valid) key is a new, empty form."""
    require_designer(services, principal)
    _check_key(key)
    with services.db.session() as s:
        latest, bundle, catalogue = _latest(services, s)
    schema = bundle.forms.get(key)
    if schema is None:
        schema = {"title": "", "description": "", "type": "object", "properties": {}, "required": []}
    return FormDraft(
        key=key,
        text=json.dumps(schema, ensure_ascii=False, indent=2),
        exists=key in bundle.forms,
        latest=latest,
        base_sha=form_hash(bundle.forms[key]) if key in bundle.forms else "",
        used_by=_used_by(catalogue, key),
    )


def check_form(services: Services, principal: Principal, key: str, text: str, *, locale: str = "zh_CN") -> FormCheck:
    """The edited schema checked as a deploy of the latest version with it would be, and its preview."""
    require_designer(services, principal)
    _check_key(key)
    with services.db.session() as s:
        _latest_id, bundle, catalogue = _latest(services, s)
        used_by = _used_by(catalogue, key)
        schema, problems = _parse(key, text)
        if schema is None:
            return FormCheck(problems=tuple(problems), fields=(), process_fields=(), used_by=used_by)
        found, _warnings = _problems_of(with_form(bundle, key, schema))
        found = _still_read(bundle, key, schema) + found
        options: dict[str, list[tuple[object, str]]] = {
            name: list(choices) for name, choices in forms.resolve_options(s, schema, locale=locale).items()
        }
    try:
        preview = tuple(forms.fields(schema, options))
    except (
        AttributeError,
        TypeError,
        ValueError,
        KeyError,
    ) as exc:  # a schema valid in JSON Schema's eyes, odd for ours
        preview = ()
        found.append(Problem(f"forms/{key}.json", None, f"the form cannot be rendered: {exc}", "form_render"))
    return FormCheck(
        problems=tuple(found),
        fields=preview,
        process_fields=tuple(sorted(forms.process_fields(schema))),
        used_by=used_by,
    )


def request_form_deploy(
    services: Services,
    principal: Principal,
    key: str,
    text: str,
    *,
    base_sha: str = "",
    comment: str | None = None,
) -> DeployRequest:
    """Ask to add or replace one form in the latest version; refused now as at approval if it breaks a
    process, and a ``Conflict`` if someone deployed another change to the form since it was opened."""
    from engine.definitions.operations import _comment

    require_designer(services, principal)
    _check_key(key)
    schema, problems = _parse(key, text)
    if schema is None:
        raise DeployError(
            f"deploy refused: forms/{key}.json cannot be read",
            problems=[{**p.as_dict(), "code": p.code} for p in problems],
        )
    with services.db.session() as s:
        latest, bundle, _catalogue = _latest(services, s)
        check_base(bundle.forms.get(key), key, schema, base_sha, latest)
        still = _still_read(bundle, key, schema)
        if still:
            raise DeployError(
                f"deploy refused: {len(still)} problem(s) found; nothing was deployed",
                problems=[{**p.as_dict(), "code": p.code, "params": dict(p.params)} for p in still],
            )
        _compiled(with_form(bundle, key, schema))
        request_id = requests.open_request(
            s,
            principal,
            requests.DEPLOY,
            summary=f"forms/{key}.json (v{latest})",
            payload={
                "filename": f"forms/{key}.json",
                "form_key": key,
                "content": json.dumps(schema, ensure_ascii=False, indent=2),
                "base_sha": base_sha,
                "based_on": latest,
                "comment": _comment(comment),
            },
        )
    return DeployRequest(request_id=request_id, filename=f"forms/{key}.json", based_on=latest)


def check_base(current: Any, key: str, schema: Any, base_sha: str, latest: int) -> None:
    """Someone else deployed a change to this form after it was opened (a new form: after it was created)."""
    if current is None and not base_sha:
        return
    now = form_hash(current) if current is not None else ""
    if now not in (base_sha, form_hash(schema)):
        raise Conflict(
            f"forms/{key}.json was changed by version {latest} after it was opened",
            file=f"forms/{key}.json",
            version=latest,
            reason="stale_base",
        )


# --------------------------------------------------------------------------- fields still read
# Where a diagram reads process variables: conditions, scripts, timers, payloads and the task
# properties that name a variable (engine/definitions/dataflow.py reads the same places).
_READERS = (
    "conditionExpression",
    "script",
    "timeDate",
    "timeDuration",
    "timeCycle",
    "loopCardinality",
    "completionCondition",
    "preScript",
    "postScript",
    "messagePayload",
)
_VARIABLE_PROPS = ("dueFrom", "unitVar", "assigneeVar", "separateFrom", "correlationVar")


def _still_read(bundle: Any, key: str, schema: dict[str, Any]) -> list[Problem]:
    """A field the stored form copies into the process data (x-process) that the edit drops, while a
    diagram still reads it and no other form sets it. The data-flow check cannot see this one: a
    variable nothing sets is taken to come with the start data, so the flow would pass and the instance
    fail at the gateway."""
    old = bundle.forms.get(key)
    if not isinstance(old, dict):
        return []
    others = set().union(
        *(forms.process_fields(f) for k, f in bundle.forms.items() if k != key and isinstance(f, dict))
    )
    dropped = sorted(forms.process_fields(old) - forms.process_fields(schema) - others)
    found: list[Problem] = []
    for filename, data in sorted(bundle.bpmn.items()):
        tree = parse_xml(data, filename)
        for node in tree.iter():
            if not isinstance(node.tag, str):
                continue
            local = etree.QName(node).localname
            if local in _READERS:
                text, owner = node.text or "", _owner(node)
            elif local == "property" and node.get("name") in _VARIABLE_PROPS:
                text, owner = node.get("value") or "", _owner(node)
            else:
                continue
            for name in dropped:
                if re.search(rf"(?<![\w.'\"]){re.escape(name)}(?![\w'\"])", text):
                    found.append(
                        Problem(
                            f"forms/{key}.json",
                            owner.get("id") if owner is not None else None,
                            f"field '{name}' is read by {filename} ({local}: {text.strip()[:120]}); "
                            "the edited form no longer copies it into the process data (x-process)",
                            "form_field_read",
                            params=(
                                ("field", name),
                                ("file", filename),
                                ("use", local),
                                ("source", text.strip()[:120]),
                            ),
                        )
                    )
    return found


def _owner(node: Any) -> Any:
    """The nearest ancestor with an id: the flow, task or event the expression belongs to."""
    while node is not None and not node.get("id"):
        node = node.getparent()
    return node


# --------------------------------------------------------------------------- helpers
def _check_key(key: str) -> None:
    if not FORM_KEY.match(key or ""):
        raise NotFound(f"no form {key!r}: a form key is lower-case letters, digits and '_'", form=key)


def _latest(services: Services, s: Session) -> tuple[int, Any, dict[str, Any]]:
    from engine.models import DefinitionVersion

    latest = services.definitions.latest_version_id(s)
    if latest is None:
        raise Conflict("nothing is deployed yet: deploy the process library first")
    row = s.get(DefinitionVersion, latest)
    catalogue = (row.catalogue if row is not None else None) or {}
    return latest, services.definitions.stored_bundle(s, latest), catalogue


def with_form(bundle: Any, key: str, schema: Any) -> Any:
    from engine.definitions.bundle import Bundle

    return Bundle(
        bpmn=dict(bundle.bpmn), forms={**bundle.forms, key: schema}, roles=bundle.roles, settings=bundle.settings
    )


def _parse(key: str, text: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The schema, or the first reason it is not one: JSON syntax (line and column), not an object,
    not a valid JSON Schema (the path of the wrong part)."""
    file = f"forms/{key}.json"
    if len(text.encode("utf-8")) > MAX_FORM_BYTES:
        return None, [Problem(file, None, f"larger than {MAX_FORM_BYTES // 1024} KB", "form_too_large")]
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [
            Problem(
                file,
                None,
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                "form_json",
                params=(("line", str(exc.lineno)), ("column", str(exc.colno)), ("error", exc.msg)),
            )
        ]
    if not isinstance(schema, dict):
        return None, [Problem(file, None, "a form must be a JSON object (a JSON Schema)", "form_not_object")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(map(str, exc.path)) or "/"
        return None, [
            Problem(
                file,
                where,
                f"not a valid JSON Schema at {where}: {exc.message}",
                "form_schema",
                params=(("path", where), ("error", exc.message)),
            )
        ]
    if not isinstance(schema.get("properties", {}), dict):
        return None, [Problem(file, "properties", "'properties' must be an object of fields", "form_not_object")]
    return schema, []


def _used_by(catalogue: dict[str, Any], key: str) -> tuple[FormUse, ...]:
    return tuple(
        FormUse(process=pid, task=tid, name=str(task.get("name") or tid))
        for pid, meta in sorted(catalogue.items())
        for tid, task in sorted((meta.get("tasks") or {}).items())
        if task.get("form_key") == key
    )
