"""Run every benchmark in bench/, then print one table of their figures and targets (`scons bench`).

    python bench/run.py --out-dir out/bench [--quick] [bench_bus ...]

Each `bench_<name>.py` runs to its end even when an earlier one missed a target or crashed; each writes
`<out-dir>/<bench>.json` (bench/figures.py). The summary table lists every figure with its unit, target
(bench/targets.py), verdict and the baseline measured in the same run; it also goes to
`<out-dir>/summary.json`. Exit status 1 when any target was missed or any benchmark left no results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from figures import read
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent


def run_one(script: Path, out: Path, quick: bool) -> dict[str, Any]:
    """Run one benchmark; its results, or a stand-in row that says why there are none."""
    start = time.time()
    cmd = [sys.executable, str(script), "--out", str(out)] + (["--quick"] if quick else [])
    print("== %s" % script.stem, flush=True)
    rc = subprocess.run(cmd).returncode
    if out.exists() and out.stat().st_mtime >= start:
        result = read(out)
        result["seconds"] = round(time.time() - start, 1)
        return result
    return {"bench": script.stem, "met": False, "figures": [], "error": "exit status %d, no results" % rc}


def number(v: float | None) -> str:
    if v is None:
        return ""
    return f"{v:,.0f}" if abs(v) >= 10_000 else "%.4g" % v


def table(results: list[dict[str, Any]], quick: bool) -> Table:
    t = Table(title="benchmarks%s (targets: bench/targets.py)" % (" --quick" if quick else ""))
    for col in ("benchmark", "figure", "value", "unit", "target", "verdict", "baseline (same run)"):
        t.add_column(col, justify="right" if col in ("value", "target") else "left")
    for r in results:
        if "error" in r:
            t.add_row(r["bench"], "-", "", "", "", "[bold red]FAILED[/]", r["error"])
        for f in r["figures"]:
            target = "%s %s" % (f["comparison"], number(f["target"])) if "target" in f else ""
            verdict = "" if "met" not in f else "[green]met[/]" if f["met"] else "[bold red]MISSED[/]"
            base = "%s %s" % (number(f["baseline"]), f["baseline_is"]) if f["baseline"] is not None else ""
            t.add_row(r["bench"], f["name"], number(f["value"]), f["unit"], target, verdict, base)
    return t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--quick", action="store_true", help="fewer iterations in every benchmark")
    ap.add_argument("only", nargs="*", help="benchmark names (default: every bench/bench_*.py)")
    args = ap.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem in args.only]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    results = [run_one(s, args.out_dir / (s.stem + ".json"), args.quick) for s in scripts]
    Console(width=150).print(table(results, args.quick))
    missed = [r["bench"] for r in results if not r["met"]]
    summary = {"quick": args.quick, "met": not missed, "missed": missed, "results": results}
    (args.out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print("every target met" if not missed else "targets missed or no results: %s" % ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
