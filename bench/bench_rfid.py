"""Benchmark: what the RFID reader driver adds to a control tick, on the real unix `micropython` binary (and
CPython), timed tick by tick while the driver polls a reader that answers every request.

Usage: bench/bench_rfid.py --out out/bench/rfid.json [--quick]. For each reader type the reader answers
"no card" and a card in turn (the push reader pushes a card every 25 ticks); "busy" = every tick of the
run, "baseline" = the ticks between a request and its answer (nothing arrived, nothing to send), measured
in the same run. The answers come from the allocation-free scripted port of tests/firmware/rfid_case.py.
Target (bench/targets.py): the driver's p99 tick on the micropython binary, the worst reader type; the
maxima are reported beside it (on a shared machine they are the scheduler's, the waiting ticks show the
same).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from chargepark.procs import micropython_binary
from figures import figure, write

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware_mpy"
CASES = ROOT / "tests" / "firmware"

SCRIPT = """
import gc, json, time
try:
    from time import ticks_us, ticks_diff
except ImportError:
    ticks_us = lambda: time.perf_counter_ns() // 1000
    ticks_diff = lambda a, b: a - b
import rfid_case
from iomodule.rfid import spec
from iomodule.rfid.reader import RfidReader
def stats(us):
    return {"median_us": us[len(us) // 2], "p99_us": us[len(us) * 99 // 100], "max_us": us[-1],
            "mean_us": round(sum(us) / len(us), 2), "ticks": len(us)}
out = {}
for kind in ("twn4", "mde950", "uw_xeu1", "charx"):
    if kind == "uw_xeu1":
        port = rfid_case.Feed(b"")
        line = rfid_case.CARD[kind]
    else:
        port = rfid_case.ScriptPort([rfid_case.NO_CARD[kind], rfid_case.CARD[kind]] * (TICKS // 20 + 2))
    r = RfidReader(port, spec(kind))
    busy = [0] * TICKS
    quiet = bytearray(TICKS)
    cards = 0
    gc.collect()
    t = 0
    for i in range(TICKS):
        t += 10
        if kind == "uw_xeu1" and i % 25 == 0:
            port.out = line  # the push reader sends the card again
            port.pos = 0
        before = port.pos, r.waiting
        t0 = ticks_us()
        n = r.poll(t)
        busy[i] = ticks_diff(ticks_us(), t0)
        cards += 1 if n else 0
        quiet[i] = port.pos == before[0] and r.waiting == before[1]
    idle = [busy[i] for i in range(TICKS) if quiet[i]]
    assert r.state is True and cards > 0, (kind, r.state, cards)
    busy.sort()
    idle.sort()
    out[kind] = {"busy": stats(busy), "idle": stats(idle), "cards": cards, "answers": r.answers}
    busy = idle = quiet = None
print(json.dumps(out))
"""


def run(interpreter: list[str], ticks: int) -> dict[str, dict[str, object]]:
    env = dict(
        os.environ,
        MICROPYPATH=os.pathsep.join([str(CASES), str(FIRMWARE)]),
        PYTHONPATH=os.pathsep.join([str(CASES), str(FIRMWARE)]),
    )
    out = subprocess.run(
        [*interpreter, "-c", SCRIPT.replace("TICKS", str(ticks))],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    )
    raw: dict[str, dict[str, object]] = json.loads(out.stdout.strip().splitlines()[-1])
    return raw


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    ticks = 2000 if args.quick else 20000
    results: dict[str, object] = {"ticks": ticks}
    figures = []
    for interp_name, interp in (
        ("micropython", [micropython_binary(), "-X", "heapsize=8M"]),
        ("cpython", [sys.executable]),
    ):
        per_kind = run(interp, ticks)
        results[interp_name] = per_kind
        for kind, r in per_kind.items():
            busy: dict[str, float] = r["busy"]  # type: ignore[assignment]
            base: dict[str, float] = r["idle"]  # type: ignore[assignment]
            print(
                "%-11s %-8s busy: mean %5.1f us p99 %4d us max %4d us | baseline: mean %5.1f us max %4d us | %d cards"
                % (interp_name, kind, busy["mean_us"], busy["p99_us"], busy["max_us"], base["mean_us"],
                   base["max_us"], r["cards"])
            )  # fmt: skip
            figures.append(
                figure(
                    "%s_%s_p99_us" % (interp_name, kind),
                    busy["p99_us"],
                    "us",
                    base["p99_us"],
                    "waiting ticks",
                )
            )
            figures.append(
                figure(
                    "%s_%s_max_us" % (interp_name, kind),
                    busy["max_us"],
                    "us",
                    base["max_us"],
                    "waiting ticks",
                )
            )
    p99 = [f for f in figures if f["name"].startswith("micropython_") and f["name"].endswith("_p99_us")]
    worst = max(p99, key=lambda f: f["value"])
    figures.append(
        figure("micropython_driver_p99_us", worst["value"], "us", worst["baseline"], "waiting ticks")
    )
    return 0 if write(args.out, "bench_rfid", figures, results, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
