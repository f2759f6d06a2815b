"""The cockpit's tables as files for a meeting: CSV (UTF-8 with BOM, for spreadsheets) and XLSX.

A file holds what the page showed and nothing more: the page's tables (headers and rows, already in the
reader's language, built by web/cockpit/tables.py from the same use cases the pages call), its title and
the filters and period it was computed with, written above the tables so a printed sheet says what it
counts. A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return) as a formula (CSV/formula injection: a business key or a unit name could carry
``=HYPERLINK(...)``): every text cell so beginning is written with a leading apostrophe, and in XLSX
every text cell is stored as a string, never as a formula. Numbers stay numbers.

openpyxl (about 12 MB resident) is imported by ``to_xlsx`` when a workbook is first asked for, not when the
application starts: the cockpit's pages import this module, few of their readers export (issue 19: a web
process under 200 MB).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
MAX_SHEET_TITLE = 31  # Excel's limit
_SHEET_FORBIDDEN = re.compile(r"[\[\]\*\?/\\:]")


@dataclass(frozen=True)
class Table:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Export:
    """One page's export: ``name`` for the file, ``title`` and ``lines`` ((label, value): the period and
    every filter applied) written first, then each table."""

    name: str
    title: str
    lines: Sequence[tuple[str, str]]
    tables: Sequence[Table] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(t.rows) for t in self.tables)


def safe(value: Any) -> Any:
    """A cell a spreadsheet shows and never runs: text beginning like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(export: Export) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheets read the Chinese text as UTF-8
    writer = csv.writer(out)
    writer.writerow([safe(export.title)])
    for label, value in export.lines:
        writer.writerow([safe(label), safe(value)])
    for table in export.tables:
        writer.writerow([])
        writer.writerow([safe(table.title)])
        writer.writerow([safe(h) for h in table.headers])
        for row in table.rows:
            writer.writerow([safe(v) for v in row])
    return out.getvalue().encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title).strip()[:MAX_SHEET_TITLE] or "Sheet"
    name, n = base, 2
    while name in used:
        suffix = f" ({n})"
        name, n = base[: MAX_SHEET_TITLE - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def _put(sheet: Any, row: int, column: int, value: Any, *, font: Any = None) -> None:
    cell = sheet.cell(row=row, column=column)
    cleaned = safe(value)
    cell.value = cleaned
    if isinstance(cleaned, str):
        cell.data_type = "s"  # text, never a formula, whatever it begins with
    if font is not None:
        cell.font = font


def to_xlsx(export: Export) -> bytes:
    """A workbook with a first sheet naming the export (title, period, filters) and one sheet per table,
    each again headed by the title and the period."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    bold = Font(bold=True)
    book = Workbook()
    used: set[str] = set()
    names = [_sheet_title(t.title, used) for t in export.tables]  # the tables keep their own titles
    about = book.active
    about.title = _sheet_title(export.title, used)
    _put(about, 1, 1, export.title, font=bold)
    for i, (label, value) in enumerate(export.lines, start=2):
        _put(about, i, 1, label)
        _put(about, i, 2, value)
    for table, sheet_name in zip(export.tables, names, strict=True):
        sheet = book.create_sheet(sheet_name)
        _put(sheet, 1, 1, f"{export.title} · {table.title}", font=bold)
        for i, (label, value) in enumerate(export.lines, start=2):
            _put(sheet, i, 1, label)
            _put(sheet, i, 2, value)
        top = len(export.lines) + 3
        for c, header in enumerate(table.headers, start=1):
            _put(sheet, top, c, header, font=bold)
        for r, row in enumerate(table.rows, start=top + 1):
            for c, value in enumerate(row, start=1):
                _put(sheet, r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(export: Export, fmt: str) -> bytes:
    return to_xlsx(export) if fmt == "xlsx" else to_csv(export)
