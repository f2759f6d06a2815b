"""What may live in process data: small, plain JSON values under ordinary names.

SpiffWorkflow copies task data into every task and reads a ``typename`` key as a type tag (an unknown
one makes the instance unloadable), turns sets into lists and cannot serialize dates. So data is checked
before it reaches the engine, and the check names the offending field.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from engine.errors import ValidationError

RESERVED_KEYS = frozenset({"typename", "serializer_version"})
MAX_PROCESS_DATA_BYTES = 64 * 1024
MAX_DEPTH = 8


def check_process_data(data: Any, *, what: str = "data") -> dict[str, Any]:
    """Return ``data`` unchanged if it is acceptable, else raise ValidationError naming each bad field."""
    if not isinstance(data, dict):
        raise ValidationError(f"{what} must be a JSON object", fields={"": "expected an object"})
    problems: dict[str, str] = {}
    _walk(data, "", 0, problems)
    if not problems:
        size = len(orjson.dumps(data))
        if size > MAX_PROCESS_DATA_BYTES:
            problems[""] = (
                f"{size} bytes is more than the {MAX_PROCESS_DATA_BYTES} bytes process data may hold; "
                "keep long texts and attachments in records and pass their ids"
            )
    if problems:
        first = next(iter(problems))
        raise ValidationError(f"{what} refused: {first or '(whole)'}: {problems[first]}", fields=problems)
    return data


def _walk(value: Any, path: str, depth: int, problems: dict[str, str]) -> None:
    if depth > MAX_DEPTH:
        problems[path] = f"nested more than {MAX_DEPTH} levels deep"
        return
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            problems[path] = "numbers must be finite"
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", depth + 1, problems)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str):
                problems[child] = "keys must be strings"
                continue
            if key in RESERVED_KEYS:
                problems[child] = f"'{key}' is a reserved name and may not be used as a field"
                continue
            if key.startswith("_"):
                problems[child] = "field names may not start with '_'"
                continue
            _walk(item, child, depth + 1, problems)
        return
    problems[path] = f"{type(value).__name__} is not a JSON value (use strings for dates, lists for sets)"


def unstorable(text: str) -> bool:
    """A NUL character (PostgreSQL text and JSONB refuse it) or a lone surrogate (``"\\ud800"`` in JSON:
    no UTF-8 encoding exists, so every database and every page that shows it would fail)."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unstorable_paths(value: Any, path: str = "") -> list[str]:
    """Paths of strings (values or keys) no database can store (``unstorable``).

    Callers taking JSON from outside (the API) check this first, so such input is a validation error
    rather than a database error.
    """
    found: list[str] = []
    if isinstance(value, str):
        if unstorable(value):
            found.append(path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(unstorable_paths(item, f"{path}[{i}]"))
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and unstorable(key):
                found.append(child.replace("\x00", "\\0").encode("utf-8", "backslashreplace").decode("utf-8"))
                continue
            found.extend(unstorable_paths(item, child))
    return found
