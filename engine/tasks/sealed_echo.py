"""Sealing that holds (issue 15): the case's sealed values may not come back through later free text.

The reporter's identity is entered only in the sealed fields of the registration (检举人姓名、身份证号、
联系方式、住址或单位) and sealed at rest (engine/access/sealing.py). A 谈话 question such as "张三反映你……"
typed into a later step would store the same name in the open record and show it to everyone on the case,
and the 函询通知书 would carry it to the person reported: exactly what 检举控告工作规则 第47条 forbids
("不得将检举人信息泄露给被检举人"). The domain reference asks the system to keep reporter data out of the
letters (§6.1), and the issue asks that "the officer is asked to remove them before submitting": so a
submission whose free text holds a sealed value of the case is refused, each field named, nothing stored.
Refusing is chosen over sealing the field quietly: a sealed 谈话 question could no longer be printed in the
letter or read by the interviewer, and the officer would not learn that he wrote what the rules forbid.

What counts as a sealed value: every text of the case's sealed records (all linked instances, so a
separate 谈话函询 instance checks the registration's values), compared after removing spaces and
separators and ignoring case, so "138 0013 8000" and "1380013 8000" are the same phone number. Values
shorter than two characters say nothing about a person; long confidential texts (a 告知记录, the reporter's
objection) are notes rather than identities; a value the case also holds openly (a reporter's unit that
is the reported unit) is no secret of the case. Only free text is read: fields with choices, pickers,
issued numbers and signatures hold what the system gave.

The refusal is itself evidence (a person who types names until one is refused learns who reported): each
catch leaves an audit event naming the step and the fields, never the value, written in its own transaction
so the refusal does not roll it back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.access.principal import Principal
from engine.access.sealing import Sealer
from engine.errors import ValidationError
from engine.instances.cases import linked_instances
from engine.models import TaskSubmission

if TYPE_CHECKING:
    from engine.services import Services

EVENT = "sealed_value_refused"
MESSAGE = "此处含有本案保密信息（检举人姓名、身份证号、联系方式等），请删除后再提交（检举控告工作规则第47条）"
SHORTEST = 2  # a value of one character names nobody
LONGEST = 60  # past this a sealed text is a note (告知记录, 检举人意见), not an identity
_SEPARATORS = re.compile(r"[\s\-－—–_·•.,，、:：;；/\\()（）\[\]【】\"'“”‘’]+")


def normalise(text: str) -> str:
    """The text without spaces and separators, case folded: how a value is compared wherever it is typed."""
    return _SEPARATORS.sub("", text).casefold()


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for inner in value.values():
            yield from _texts(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _texts(inner)


def _identities(sealed: Iterable[str], shown: Iterable[str]) -> set[str]:
    open_values = set(shown)
    return {s for s in sealed if SHORTEST <= len(s) <= LONGEST and s not in open_values}


def case_secrets(
    session: Session,
    sealer: Sealer,
    instance_id: int,
    *,
    sealing: Mapping[str, Any] | None = None,
) -> set[str]:
    """The normalised sealed values of ``instance_id``'s case that identify someone (see the module text);
    ``sealing``: the confidential part of the submission being checked, so a registration's own 反映问题摘要
    may not repeat the name it seals either. (Only earlier records' open values make a value no secret: the
    submission's own would excuse the very field that repeats it.)"""
    instances = linked_instances(session, instance_id)
    rows = session.execute(
        select(TaskSubmission.data, TaskSubmission.sealed).where(
            TaskSubmission.instance_id.in_(instances), TaskSubmission.kind == "final"
        )
    ).all()
    sealed = {normalise(t) for t in _texts(sealing or {})}
    shown: set[str] = set()
    for data, token in rows:
        shown.update(normalise(t) for t in _texts(data or {}))
        if token:
            sealed.update(normalise(t) for t in _texts(sealer.open(token)))
    return _identities(sealed, shown)


def _free_text(prop: Mapping[str, Any]) -> bool:
    """A property whose strings the officer types (not choices, pickers, issued numbers or signatures)."""
    if prop.get("x-confidential") or prop.get("x-issued") or prop.get("x-options"):
        return False
    if "enum" in prop or "const" in prop or "oneOf" in prop or "anyOf" in prop:
        return False
    inner = prop.get("properties") or {}
    return not ("signer" in inner and "signed_at" in inner)


def _free_values(schema: Mapping[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, text) of every free text in ``value`` read against ``schema``."""
    if not _free_text(schema):
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, inner in value.items():
            sub = props.get(key, extra if isinstance(extra, Mapping) else None)
            if sub is not None:
                yield from _free_values(sub, inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        item = schema.get("items") or {}
        if isinstance(item, Mapping):
            for i, inner in enumerate(value):
                yield from _free_values(item, inner, f"{path}.{i}")


def echoes(schema: Mapping[str, Any], data: Mapping[str, Any], secrets: Iterable[str]) -> dict[str, str]:
    """``{field path: message}`` for each free-text field of ``data`` that holds one of ``secrets``."""
    wanted = [s for s in secrets if s]
    if not wanted:
        return {}
    found: dict[str, str] = {}
    for path, text in _free_values({"properties": schema.get("properties") or {}}, data, ""):
        flat = normalise(text)
        if any(secret in flat for secret in wanted):
            found.setdefault(path, MESSAGE)
    return found


def check(
    session: Session,
    sealer: Sealer,
    instance_id: int,
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    case_sealed: bool | None = None,
) -> dict[str, str]:
    """The free-text fields of a submission that repeat a sealed value of the case or of the submission
    itself (none when the form has no free text, without opening a sealed record).

    ``case_sealed``: whether the case holds any sealed record, when the caller's own read already says so
    (the completion's read of its task, engine/runtime/core.py ``_read_for_completion``). A case without
    one, checked against a submission that seals nothing, has no secret to repeat: nothing is read."""
    properties = schema.get("properties") or {}
    if not any(True for _ in _free_values({"properties": properties}, data, "")):
        return {}
    secret = {k for k, prop in properties.items() if prop.get("x-confidential")}
    sealing = {k: v for k, v in data.items() if k in secret}
    if case_sealed is False and not any(True for v in sealing.values() for _ in _texts(v)):
        return {}
    return echoes(schema, data, case_secrets(session, sealer, instance_id, sealing=sealing))


def record(services: Services, principal: Principal, task_id: int, instance_id: int | None, paths: list[str]) -> None:
    """Leave the refused attempt in the trail (the fields, never the value), in its own transaction: the
    refusal rolls the use case back, the record of the attempt must stay."""
    with services.db.session() as s:
        audit.record(s, EVENT, actor=principal.username, instance_id=instance_id, task_id=task_id, fields=paths)


def refuse_in_notes(
    services: Services,
    s: Session,
    principal: Principal,
    task_id: int,
    instance_id: int,
    notes: Mapping[str, str | None],
) -> None:
    """The free text of an action (退回's 批示, 转办's 理由, 抄送's 说明, 催办意见 …) checked like a form's
    free text: refused, each field named, when it repeats a sealed value of the case."""
    present = {name: text for name, text in notes.items() if text}
    if not present:
        return
    secrets = case_secrets(s, services.sealer, instance_id)
    caught = {name: MESSAGE for name, text in present.items() if any(x in normalise(text) for x in secrets)}
    if caught:
        record(services, principal, task_id, instance_id, sorted(caught))
        raise ValidationError("text repeats a sealed value of the case", fields=caught, task=task_id)
