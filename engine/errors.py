"""Errors the engine raises, each carrying what a caller needs to tell a person what went wrong.

Every error has a stable ``code`` (for API clients), a human ``message`` and ``details`` that name
the file, BPMN element or form field at fault. The HTTP layer maps ``status`` directly.
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def __str__(self) -> str:
        if not self.details:
            return self.message
        where = ", ".join(f"{k}={v}" for k, v in self.details.items() if not isinstance(v, (list, dict)))
        return f"{self.message} ({where})" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class DeployError(EngineError):
    """A BPMN bundle was refused; nothing of it was stored.

    ``problems`` lists every finding (file, element, reason) so a designer fixes them in one pass.
    """

    status = 422
    code = "invalid_definition"

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None, **details: Any):
        problems = problems or []
        super().__init__(message, problems=problems, **details)
        self.problems = problems

    def __str__(self) -> str:
        lines = [self.message]
        for p in self.problems:
            lines.append(f"  {p.get('file', '?')}: {p.get('element', '-')}: {p.get('reason')}")
        return "\n".join(lines)


class ValidationError(EngineError):
    """Input data was refused (form data, process data); ``fields`` maps a field path to its reason."""

    status = 422
    code = "validation_failed"

    def __init__(self, message: str, fields: dict[str, str] | None = None, **details: Any):
        super().__init__(message, fields=fields or {}, **details)
        self.fields = fields or {}

    def __str__(self) -> str:
        lines = [self.message]
        lines += [f"  {field or '(whole)'}: {reason}" for field, reason in list(self.fields.items())[:50]]
        return "\n".join(lines)


class NotFound(EngineError):
    status = 404
    code = "not_found"


class Forbidden(EngineError):
    status = 403
    code = "forbidden"


class Conflict(EngineError):
    """Someone else changed the same thing first (task already completed, instance moved on)."""

    status = 409
    code = "conflict"


class ProcessError(EngineError):
    """The process itself failed while running (an expression error, no gateway condition true).

    ``element`` names the BPMN element, so the designer knows where to look.
    """

    status = 422
    code = "process_error"


class NotVisible(Forbidden):
    """Outside the person's need to know (知悉范围); ``reason`` names the rule for the audit trail
    (``task_not_visible``, ``instance_not_visible``, ``confidential_attachment``).

    It is a refusal (a Forbidden: the ``access_denied`` event is written) but answers like a missing
    record: 404 with the same message and details a :class:`NotFound` for that id would carry
    (:meth:`public`), so a person cannot learn which ids exist by trying them. "Visible but not yours to
    act on" (a task claimed by someone else) stays a plain Forbidden, 403."""

    status = 404
    code = "not_found"

    # The thing refused, most specific first: a task's details also name its instance, which the client
    # must not learn from the refusal.
    _SUBJECTS = ("attachment", "task", "instance")

    def __init__(self, message: str, *, reason: str, **details: Any) -> None:
        super().__init__(message, **details)
        self.reason = reason

    def public(self) -> NotFound:
        """What the client is told: exactly what a missing record of the same kind would say."""
        for kind in self._SUBJECTS:
            if self.details.get(kind) is not None:
                ident = self.details[kind]
                return NotFound(f"{kind} {ident} not found", **{kind: ident})
        return NotFound("not found")
