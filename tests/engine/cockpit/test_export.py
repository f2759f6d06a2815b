"""The cockpit's files (engine/cockpit/export.py): what a spreadsheet would run is written as text."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from engine.cockpit.export import Export, Table, safe, to_csv, to_xlsx

HOSTILE = ['=HYPERLINK("http://x","点我")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def sample() -> Export:
    return Export(
        name="instances",
        title="在办流程",
        lines=[("统计期间", "2024-04-01 – 2024-05-31"), ("业务编号", "=cmd")],
        tables=[
            Table("在办流程", ["业务编号", "件数", "比例"], [[h, 3, -1.5] for h in HOSTILE]),
            Table("在办流程", ["空表"], []),  # a second table of the same title gets a sheet of its own
        ],
    )


def test_text_beginning_like_a_formula_gets_an_apostrophe_and_numbers_stay_numbers():
    assert [safe(h)[0] for h in HOSTILE] == ["'"] * len(HOSTILE)
    assert safe("XS-2024-0001") == "XS-2024-0001" and safe("普通文字") == "普通文字"
    assert (safe(-1.5), safe(3), safe(None), safe(True)) == (-1.5, 3, "", "True")


def test_the_csv_writes_the_title_period_and_no_formula():
    rows = list(csv.reader(io.StringIO(to_csv(sample()).decode("utf-8-sig"))))
    assert rows[0] == ["在办流程"] and rows[1] == ["统计期间", "2024-04-01 – 2024-05-31"]
    assert rows[2] == ["业务编号", "'=cmd"]
    body = rows[rows.index(["业务编号", "件数", "比例"]) + 1 :][: len(HOSTILE)]
    assert [r[0] for r in body] == ["'" + h for h in HOSTILE]
    assert {r[2] for r in body} == {"-1.5"}


def test_the_xlsx_stores_every_text_cell_as_text():
    book = load_workbook(io.BytesIO(to_xlsx(sample())))
    assert book.sheetnames == ["在办流程 (3)", "在办流程", "在办流程 (2)"]
    about, table, empty = book.worksheets
    assert (about["A1"].value, about["B2"].value, about["B3"].value) == ("在办流程", "2024-04-01 – 2024-05-31", "'=cmd")
    cells = list(table.iter_rows(min_row=6, values_only=False))
    assert [c[0].value for c in cells] == ["'" + h for h in HOSTILE]
    assert {c[0].data_type for c in cells} == {"s"}  # never "f" (formula)
    assert {c[2].value for c in cells} == {-1.5} and {c[2].data_type for c in cells} == {"n"}
    assert table["A1"].value == "在办流程 · 在办流程" and table["B2"].value == "2024-04-01 – 2024-05-31"
    assert empty["A5"].value == "空表"
    # titles and column headers bold, the figures not
    assert about["A1"].font.b and table["A1"].font.b and all(c.font.b for c in next(table.iter_rows(min_row=5)))
    assert not about["A2"].font.b and not any(c.font.b for c in cells[0])
