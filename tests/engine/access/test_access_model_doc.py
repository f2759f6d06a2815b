"""docs/security.md "Access model (知悉范围)" is the table a commission's security officer checks: it must
name every role of processes/roles.yaml once, with the reading scope roles.yaml gives it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
KINDS = 9  # clue registration … attachments
VALUES = re.compile(r"^(act|read|none|declared)\b")


def _table() -> dict[str, list[str]]:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    section = text.split("## Access model (知悉范围)", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([a-z_]+)` ", line)
        if match:
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            assert match.group(1) not in rows, f"role {match.group(1)} has two rows"
            rows[match.group(1)] = cells
    return rows


def test_the_table_has_one_row_per_role_with_its_scope_and_a_value_for_every_record_kind():
    roles = {r["code"]: r for r in yaml.safe_load((ROOT / "processes" / "roles.yaml").read_text("utf-8"))["roles"]}
    rows = _table()
    assert set(rows) == set(roles)
    for code, cells in rows.items():
        assert len(cells) == 3 + KINDS, (code, cells)
        assert cells[0].endswith(roles[code]["zh"]), (code, cells[0])
        assert cells[1] == roles[code]["reads"], f"{code}: the table says {cells[1]}, roles.yaml {roles[code]['reads']}"
        for cell in cells[2 : 2 + KINDS]:
            assert VALUES.match(cell), (code, cell)
        assert cells[-1], f"{code}: no source for its rules"
        if roles[code]["reads"] == "addressed":  # an outside lane never reads the clue, the channel or the 预案
            assert [c.split(" ")[0] for c in cells[2:4]] == ["none", "none"], code
