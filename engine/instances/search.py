"""Case-insensitive substring search on a column, for the search boxes of the inbox and the cockpit.

What an officer types is text, never a LIKE pattern: ``XS-2024_01`` or ``50%`` find themselves, not
every business key that happens to match the wildcard.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import QueryableAttribute


def contains(column: QueryableAttribute[Any] | ColumnElement[Any], text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, ignoring case, with LIKE's wildcards and escape character escaped."""
    return func.lower(column).like(pattern(text), escape=ESCAPE)


ESCAPE = "\\"


def pattern(text: str) -> str:
    """The LIKE pattern ``contains`` compares the lower-cased column with (for a prebuilt statement that
    takes it as a bound parameter: ``func.lower(column).like(bindparam(...), escape=ESCAPE)``)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
