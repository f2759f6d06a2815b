"""The benchmark code still runs (tiny inputs; the figures are not checked, the bookkeeping is)."""
from bench.__main__ import main


def test_quick_benchmarks_run_and_prove_exactly_once(tmp_path):
    out = tmp_path / "bench.md"
    assert main(["--quick", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "## 2. Cost against history" in text and "## 5. Timers" in text
    timer_rows = [line for line in text.splitlines() if line.startswith("| sqlite |") or line.startswith("| postgresql |")]
    assert timer_rows and all(line.rstrip().endswith("| yes |") for line in timer_rows)
