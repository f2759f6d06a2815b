"""bench/ab.py's bookkeeping: pairing rounds, the verdict, and reading callgrind's dumps."""

from bench.ab import compare, read_callgrind, verdict


def test_rounds_pair_up_and_the_ratio_is_of_round_medians():
    base = [[1.0, 2.0, 3.0], [2.0, 2.0, 2.0], [4.0, 4.0, 5.0]]
    head = [[2.0, 2.0, 2.0], [3.0, 3.0, 3.0], [4.0, 4.0, 4.0]]
    c = compare(base, head)
    assert (c["base"], c["head"]) == (2.0, 3.0)  # medians of the round medians 2, 2, 4 and 2, 3, 4
    assert (c["ratio_min"], c["ratio"], c["ratio_max"]) == (1.0, 1.0, 1.5)
    assert c["head_slower"] == 1 and c["rounds"] == 3


def test_worse_only_when_slower_in_nearly_every_round_and_beyond_the_threshold():
    steady = {"ratio": 1.12, "head_slower": 7, "rounds": 7}
    assert verdict(steady) == "**worse**"
    assert verdict({**steady, "head_slower": 4}) == "no clear difference"  # slower on median, not round after round
    assert verdict({**steady, "ratio": 1.03}).startswith("no worse")
    assert verdict({"ratio": 0.8, "head_slower": 0, "rounds": 7}) == "better"


def test_callgrind_dumps_are_read_by_their_client_request_label(tmp_path):
    (tmp_path / "cg.out.1").write_text(
        "version: 1\ndesc: Trigger: Client Request: detail\nevents: Ir\nsummary: 12345\n"
    )
    (tmp_path / "cg.out.2").write_text("desc: Trigger: Client Request: complete_sqlite\ntotals: 999\n")
    (tmp_path / "cg.out").write_text("desc: Trigger: Program termination\nsummary: 5\n")  # the final dump
    assert read_callgrind(tmp_path / "cg.out") == {"detail": 12345, "complete_sqlite": 999}


def test_make_bench_keeps_the_comparisons_written_into_its_report():
    from bench.__main__ import kept_comparisons

    text = "# Benchmarks\n\n## 1. Overhead\n\nrows\n\n## Issue 11: before/after\n\nratios\n\n## 5. Timers\n\nx\n"
    assert kept_comparisons(text) == [("Issue 11: before/after", "ratios")]
