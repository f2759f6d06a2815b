"""The benchmark code still runs (tiny inputs; the figures are not checked, the bookkeeping is)."""

import pytest

from bench.__main__ import main
from bench.common import pg_available

TITLES = (
    "## 1. Overhead over the engine",
    "## 2. Cost against history",
    "## 3. A province's load on PostgreSQL",
    "## 4. Concurrency",
    "## 5. Timers",
    "## 6. What an outside client sees",
)


def _sections(text: str) -> dict[str, list[str]]:
    """The table rows of each database (``| sqlite |``, ``| postgresql |``) under each section title."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line
            sections[current] = []
        elif current and (line.startswith(("| sqlite |", "| postgresql |"))):
            sections[current].append(line.rstrip())
    return sections


@pytest.mark.slow
def test_quick_benchmarks_run_and_prove_exactly_once(tmp_path):
    out = tmp_path / "bench.md"
    assert main(["--quick", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    sections = _sections(text)
    for title in TITLES:
        assert title in sections
    overhead = sections[TITLES[0]]
    completions = [line for line in overhead if line.count("|") == 9]  # database, clients, …, errors
    assert completions and all(line.endswith("| none |") for line in completions), completions
    floors = [line for line in overhead if line.count("|") == 8]  # the floor: one row per database
    assert len(floors) == len({line.split("|")[1] for line in completions})
    timers = sections[TITLES[4]]
    assert timers and all(line.endswith("| yes |") for line in timers), timers
    outside = [line for line in sections[TITLES[5]] if line.count("|") == 8]  # database, cycle, …, errors
    assert len(outside) == 8 * (1 + pg_available()), outside  # 4 cycles × 1 and 4 clients per database
    assert all(line.endswith("| none |") for line in outside), outside
    references = [line for line in sections[TITLES[5]] if line.count("|") == 7]  # requests + 2 other clients
    assert len(references) == 3 * (1 + pg_available()), references
    assert all(line.endswith("| none |") for line in references), references
    if pg_available():
        assert "none lost: **proved**" in text
        assert "Errors: none." in text  # every page answered 200 for every reader


def test_each_section_is_timed_and_a_failing_one_is_named(monkeypatch, capsys):
    """`make bench` runs for minutes: it says how long each section took, and which one failed and why."""
    import pytest

    import bench.__main__ as entry

    class Ok:
        @staticmethod
        def run(report, work, quick):
            report.add("Ok", "fine")

    class Broken:
        @staticmethod
        def run(report, work, quick):
            raise RuntimeError("PostgreSQL is not answering")

    monkeypatch.setattr(entry, "BENCHES", {"first": Ok, "second": Ok})
    assert entry.main(["--quick"]) == 0
    err = capsys.readouterr().err
    assert "benchmarks" in err and "first" in err and "second" in err
    monkeypatch.setattr(entry, "BENCHES", {"first": Ok, "broken": Broken})
    with pytest.raises(SystemExit) as info:
        entry.main(["--quick"])
    assert info.value.code == 2
    assert "make bench failed while broken: PostgreSQL is not answering" in capsys.readouterr().err
