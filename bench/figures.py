"""The one shape of a benchmark's results: `out/bench/<benchmark>.json`, a list of figures.

Each figure: name, value, unit, and the baseline measured in the same run (value and what it is); a figure
named in `targets.TARGETS` also carries its target, comparison and whether it was met. `details` keeps
whatever else the benchmark measured, for the curious; the runner (`bench/run.py`) reads the figures only.
"""

from __future__ import annotations

import json
import operator
from pathlib import Path
from typing import Any

from targets import TARGETS

COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def figure(
    name: str, value: float, unit: str, baseline: float | None = None, baseline_is: str = ""
) -> dict[str, Any]:
    """One figure; `baseline_is` says what the baseline is (e.g. "air time", "json on micropython")."""
    return {"name": name, "value": value, "unit": unit, "baseline": baseline, "baseline_is": baseline_is}


def judge(bench: str, figures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The figures with their targets from the table attached; every target must have its figure."""
    targets = TARGETS.get(bench, {})
    missing = set(targets) - {f["name"] for f in figures}
    if missing:
        raise ValueError("%s: targets without a figure: %s" % (bench, ", ".join(sorted(missing))))
    judged = []
    for f in figures:
        if f["name"] in targets:
            comparison, target = targets[f["name"]]
            f = dict(f, target=target, comparison=comparison, met=COMPARE[comparison](f["value"], target))
        judged.append(f)
    return judged


def write(
    path: str | Path, bench: str, figures: list[dict[str, Any]], details: dict[str, Any], quick: bool
) -> bool:
    """Write the results file, print each target's verdict; True when every target was met."""
    judged = judge(bench, figures)
    met = all(f.get("met", True) for f in judged)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"bench": bench, "quick": quick, "met": met, "figures": judged, "details": details}
    out.write_text(json.dumps(result, indent=1) + "\n")
    for f in judged:
        if "target" in f:
            print(
                "target %s = %.4g %s (%s %g): %s"
                % (
                    f["name"],
                    f["value"],
                    f["unit"],
                    f["comparison"],
                    f["target"],
                    "met" if f["met"] else "MISSED",
                )
            )
    return met


def read(path: str | Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(Path(path).read_text())
    return result
