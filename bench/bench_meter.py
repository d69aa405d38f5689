"""Benchmark: what the energy meter driver adds to a control tick, on the real unix `micropython` binary
(and CPython), timed tick by tick while the driver polls a meter that answers every request.

Usage: bench/bench_meter.py --out out/bench/meter.json [--quick]. For every meter type (`meters.MAPS`:
integer, float32 and Iskra T5/T6 maps, one request per register block) "busy" = every tick of the run
(sending, collecting bytes, decoding, committing), "baseline" = the ticks between cycles (nothing to do),
measured in the same run; "per cycle" = the sum of a poll cycle's tick costs (the RTU polling cost). The answer
arrives from an in-memory port 32 bytes a tick, so the decode tick is timed as on a UART.
The tick sequence is deterministic (simulated time, replayed answers, a fresh heap each time), so it is run
`repeats` times and each tick counts with its fastest run: a tick's cost without the preemptions of a loaded
machine, which hit a different tick each run (the slowest run of each tick is printed as "raw"). A tick that
allocates into a collection does so in every run and keeps its cost.
Target (bench/targets.py): the worst tick of the driver on the micropython binary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from chargepark.procs import micropython_binary
from figures import figure, write

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware_mpy"
CASES = ROOT / "tests" / "firmware"  # meter_case: the scripted meter and the allocation-free replay port

SCRIPT = """
import gc, json, time
try:
    from time import ticks_us, ticks_diff
except ImportError:
    ticks_us = lambda: time.perf_counter_ns() // 1000
    ticks_diff = lambda a, b: a - b
import meter_case
from iomodule import meters
from iomodule.meter import MeterDriver
from iomodule.modbus_rtu import RtuMaster
def stats(us):
    return {"median_us": us[len(us) // 2], "p99_us": us[len(us) * 99 // 100], "max_us": us[-1],
            "mean_us": round(sum(us) / len(us), 2), "ticks": len(us)}
out = {}
for name in sorted(meters.MAPS):
    mp = meters.MAPS[name]
    best = [1 << 30] * TICKS  # per tick, the fastest of the repeats: what the tick itself costs
    worst = [0] * TICKS  # per tick, the slowest: that plus whatever preempted the process
    quiet = bytearray(TICKS)
    for rep in range(REPEATS):
        port = meter_case.ReplayPort(mp, meters.encode(mp, meter_case.READING))
        drv = MeterDriver(RtuMaster(port, 9600, 100), mp, period_ms=250)  # room for idle ticks
        gc.collect()  # every repeat starts from the same clean heap: the same ticks allocate, if any
        t = 0
        for i in range(TICKS):
            t += 10
            was_busy = drv.master.busy or drv.block
            t0 = ticks_us()
            drv.poll(t)
            us = ticks_diff(ticks_us(), t0)
            if us < best[i]:
                best[i] = us
            if us > worst[i]:
                worst[i] = us
            quiet[i] = not was_busy and not drv.master.busy
        assert drv.failures == 0 and drv.cycles > 0, (drv.failures, drv.last_error)
    idle = [best[i] for i in range(TICKS) if quiet[i]]
    raw_max = max(worst)
    raw_idle_max = max(worst[i] for i in range(TICKS) if quiet[i])
    per_cycle = sum(best) // max(drv.cycles, 1)
    best.sort()
    idle.sort()
    # only the figures leave the process: ten maps' raw ticks would not fit the output buffer
    out[name] = {"busy": stats(best), "idle": stats(idle), "cycles": drv.cycles, "per_cycle_us": per_cycle,
                 "raw_max_us": raw_max, "raw_idle_max_us": raw_idle_max}
    best = worst = idle = quiet = None
print(json.dumps(out))
"""


def run(interpreter: list[str], ticks: int, repeats: int) -> dict[str, dict[str, Any]]:
    env = dict(
        os.environ,
        MICROPYPATH=os.pathsep.join([str(CASES), str(FIRMWARE)]),
        PYTHONPATH=os.pathsep.join([str(CASES), str(FIRMWARE)]),
    )
    out = subprocess.run(
        [*interpreter, "-c", SCRIPT.replace("REPEATS", str(repeats)).replace("TICKS", str(ticks))],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    )
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        name: {
            "busy": r["busy"],
            "baseline": r["idle"],
            "cycles": r["cycles"],
            "per_cycle_us": r["per_cycle_us"],
            "raw_max_us": r["raw_max_us"],
            "raw_baseline_max_us": r["raw_idle_max_us"],
        }
        for name, r in raw.items()
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    ticks = 2000 if args.quick else 20000
    repeats = 3 if args.quick else 5
    results: dict[str, object] = {"ticks": ticks, "repeats": repeats}
    figures = []
    for interp_name, interp in (
        ("micropython", [micropython_binary(), "-X", "heapsize=8M"]),
        ("cpython", [sys.executable]),
    ):
        per_map = run(interp, ticks, repeats)
        results[interp_name] = per_map
        for name, r in per_map.items():
            busy: dict[str, float] = r["busy"]  # type: ignore[assignment]
            base: dict[str, float] = r["baseline"]  # type: ignore[assignment]
            ratio = busy["mean_us"] / max(base["mean_us"], 0.01)
            r["busy_over_baseline_mean"] = round(ratio, 2)
            print(
                "%-11s %-8s busy: mean %6.1f us p99 %4d us max %4d us (raw %5d) | per cycle %5d us | baseline:"
                " mean %5.1f us max %4d us (raw %5d) | busy/baseline %.1fx"
                % (
                    interp_name,
                    name,
                    busy["mean_us"],
                    busy["p99_us"],
                    busy["max_us"],
                    r["raw_max_us"],
                    r["per_cycle_us"],
                    base["mean_us"],
                    base["max_us"],
                    r["raw_baseline_max_us"],
                    ratio,
                )
            )
            figures.append(
                figure(
                    "%s_%s_max_us" % (interp_name, name),
                    busy["max_us"],
                    "us",
                    base["max_us"],
                    "between cycles",
                )
            )
    worst = max((f for f in figures if f["name"].startswith("micropython_")), key=lambda f: f["value"])
    figures.append(
        figure("micropython_driver_max_us", worst["value"], "us", worst["baseline"], "between cycles")
    )
    return 0 if write(args.out, "bench_meter", figures, results, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
