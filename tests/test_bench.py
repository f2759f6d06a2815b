"""The benchmark code still runs (tiny inputs; the figures are not checked, the bookkeeping is)."""
from bench.__main__ import main
from bench.common import pg_available


def test_quick_benchmarks_run_and_prove_exactly_once(tmp_path):
    out = tmp_path / "bench.md"
    assert main(["--quick", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for title in ("## 1. Overhead over the engine", "## 2. Cost against history",
                  "## 3. A province's load on PostgreSQL", "## 4. Concurrency", "## 5. Timers"):
        assert title in text
    timer_rows = [line for line in text.splitlines() if line.startswith("| sqlite |") or line.startswith("| postgresql |")]
    overhead_rows = [line for line in timer_rows if line.count("|") == 9]
    assert overhead_rows and all(line.rstrip().endswith("| none |") for line in overhead_rows), overhead_rows
    timer_rows = [line for line in timer_rows if line.count("|") == 8]
    assert timer_rows and all(line.rstrip().endswith("| yes |") for line in timer_rows)
    if pg_available():
        assert "none lost: **proved**" in text
        assert "Errors: none." in text  # every page answered 200 for every reader
