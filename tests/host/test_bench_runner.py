"""The benchmarks' one shape and runner: targets come from one table, every benchmark runs, misses fail."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import figures  # noqa: E402
import run  # noqa: E402
from targets import TARGETS  # noqa: E402


def test_every_target_belongs_to_a_benchmark_that_is_judged_by_it() -> None:
    scripts = {p.stem: p.read_text() for p in BENCH.glob("bench_*.py")}
    assert set(TARGETS) <= set(scripts)
    for bench in TARGETS:  # figures.write then refuses a target the benchmark has no figure for
        assert 'write(args.out, "%s"' % bench in scripts[bench]


def test_judge_attaches_targets_and_refuses_a_target_without_its_figure() -> None:
    judged = figures.judge(
        "bench_bus",
        [
            figures.figure("rtt_p99_ms", 6.0, "ms", 1.5, "air time"),
            figures.figure("cycle12_max_ms", 20.0, "ms"),
        ],
    )
    by_name = {f["name"]: f for f in judged}
    assert by_name["rtt_p99_ms"]["met"] is False and by_name["rtt_p99_ms"]["target"] == 5.0
    assert by_name["cycle12_max_ms"]["met"] is True and by_name["cycle12_max_ms"]["comparison"] == "<"
    with pytest.raises(ValueError, match="cycle12_max_ms"):
        figures.judge("bench_bus", [figures.figure("rtt_p99_ms", 1.0, "ms")])


FAKE = """
import json, sys
out = sys.argv[sys.argv.index("--out") + 1]
json.dump({"bench": "%(name)s", "met": %(met)s, "figures": [{"name": "x", "value": 1, "unit": "ms",
           "baseline": None, "baseline_is": "", "target": 0.5, "comparison": "<", "met": %(met)s}]}, open(out, "w"))
sys.exit(0 if %(met)s else 1)
"""


def test_runner_runs_every_benchmark_and_fails_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    benches = tmp_path / "bench"
    benches.mkdir()
    (benches / "bench_a_crash.py").write_text("raise SystemExit(3)\n")
    (benches / "bench_b_missed.py").write_text(FAKE % {"name": "bench_b_missed", "met": False})
    (benches / "bench_c_met.py").write_text(FAKE % {"name": "bench_c_met", "met": True})
    monkeypatch.setattr(run, "HERE", benches)
    monkeypatch.setattr(sys, "argv", ["run.py", "--out-dir", str(tmp_path / "out")])
    assert run.main() == 1
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["missed"] == ["bench_a_crash", "bench_b_missed"]
    assert [r["bench"] for r in summary["results"]] == ["bench_a_crash", "bench_b_missed", "bench_c_met"]
    table = capsys.readouterr().out
    assert "FAILED" in table and "MISSED" in table and "met" in table
