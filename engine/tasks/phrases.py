"""常用审批意见: an approver's saved phrases for the opinion (批示) of his approvals (issue 15).

Each person keeps his own: nobody reads or changes another's, and a phrase holds no case data (it is
written on the phrases page, not taken from a case). The task page offers them beside the opinion field.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from engine import audit
from engine.access.principal import Principal
from engine.errors import Forbidden, NotFound, ValidationError
from engine.models import ApprovalPhrase
from engine.services import Services

MAX_LENGTH = 500
MAX_PHRASES = 30


@dataclass(frozen=True)
class Phrase:
    id: int
    text: str


def _refuse_administrators(principal: Principal) -> None:
    if principal.admin_kind or principal.is_system:
        raise Forbidden("administrators approve no case", rule="sanyuan_no_cases")


def phrases(services: Services, principal: Principal) -> list[Phrase]:
    _refuse_administrators(principal)
    with services.db.session() as s:
        rows = s.scalars(
            select(ApprovalPhrase).where(ApprovalPhrase.username == principal.username).order_by(ApprovalPhrase.id)
        )
        return [Phrase(r.id, r.text) for r in rows]


def add_phrase(services: Services, principal: Principal, text: str | None) -> Phrase:
    _refuse_administrators(principal)
    value = (text or "").strip()
    if not value:
        raise ValidationError("the phrase is empty", fields={"text": "请填写常用意见"})
    if len(value) > MAX_LENGTH or "\x00" in value:
        raise ValidationError("the phrase is too long", fields={"text": f"不超过{MAX_LENGTH}字"})
    with services.db.session() as s:
        count = s.scalar(
            select(func.count()).select_from(ApprovalPhrase).where(ApprovalPhrase.username == principal.username)
        )
        if (count or 0) >= MAX_PHRASES:
            raise ValidationError("too many phrases", fields={"text": f"最多保存{MAX_PHRASES}条常用意见"})
        row = ApprovalPhrase(username=principal.username, text=value)
        s.add(row)
        s.flush()
        audit.record(s, "phrase_saved", actor=principal.username, phrase_id=row.id)
        return Phrase(row.id, row.text)


def delete_phrase(services: Services, principal: Principal, phrase_id: int) -> None:
    _refuse_administrators(principal)
    with services.db.session() as s:
        row = s.get(ApprovalPhrase, phrase_id)
        if row is None or row.username != principal.username:
            raise NotFound(f"phrase {phrase_id} not found", phrase=phrase_id)
        s.delete(row)
        audit.record(s, "phrase_deleted", actor=principal.username, phrase_id=phrase_id)
