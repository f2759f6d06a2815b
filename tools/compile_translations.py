"""Compile the committed translations (web/translations/*/LC_MESSAGES/messages.po) into .mo files.

Chinese is the source language (the message ids are the zh-CN text), so only English is a catalogue.
Run by ``make setup`` and by the web tests; uses Babel's API, so a fresh clone needs nothing else.

To add or change texts: ``pybabel extract -F babel.cfg -k _l --no-location --sort-output
-o web/translations/messages.pot web``, then ``pybabel update -i web/translations/messages.pot
-d web/translations --no-location``, translate the new entries in the .po, and run this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "web" / "translations"


def compile_all(directory: Path = TRANSLATIONS, *, only_if_stale: bool = False) -> list[Path]:
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if only_if_stale and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        untranslated = [m.id for m in catalog if m.id and not m.string]
        if untranslated:
            print(
                f"{po_path.relative_to(ROOT)}: {len(untranslated)} untranslated, e.g. {untranslated[0]!r}",
                file=sys.stderr,
            )
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as handle:
            write_mo(handle, catalog)
        tmp.replace(mo_path)
        written.append(mo_path)
    return written


def main() -> int:
    written = compile_all()
    for path in written:
        print(f"compiled {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
