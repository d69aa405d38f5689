"""Benchmark: what the energy meter driver adds to a control tick, on the real unix `micropython` binary
(and CPython), timed tick by tick while the driver polls a meter that answers every request.

Usage: bench/bench_meter.py --out out/bench/meter.json [--quick]. For each register map timed (`em24`:
integers, one block; `pro380`: float32, two blocks) "busy" = every tick of the run (sending, collecting
bytes, decoding, committing; one request per register block, EM24 four, PRO380 two), "baseline" = the ticks between cycles (nothing to do), measured in the same
run. The answer arrives from an in-memory port 32 bytes a tick, so the decode tick is timed as on a UART.
Target: the worst tick of the driver <= 1000 us on the micropython binary (a tenth of the 10 ms tick).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from chargepark.procs import micropython_binary

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware_mpy"
CASES = ROOT / "tests" / "firmware"  # meter_case: the scripted meter and the allocation-free replay port
TARGET_MAX_US = 1000

SCRIPT = """
import json, time
try:
    from time import ticks_us, ticks_diff
except ImportError:
    ticks_us = lambda: time.perf_counter_ns() // 1000
    ticks_diff = lambda a, b: a - b
import meter_case
from iomodule import meters
from iomodule.meter import MeterDriver
from iomodule.modbus_rtu import RtuMaster
out = {}
maps = {"em24": meter_case.em24_regs((2301, 2302, 2303), (16000, 15000, 100), 73600, 990, 500, 123456),
        "pro380": meter_case.pro380_regs()}
for name in maps:
    mp = meters.MAPS[name]
    port = meter_case.ReplayPort(mp, maps[name])
    drv = MeterDriver(RtuMaster(port, 9600, 100), mp, period_ms=100)
    busy = [0] * TICKS  # preallocated: the timing loop itself allocates nothing
    quiet = bytearray(TICKS)
    t = 0
    for i in range(TICKS):
        t += 10
        was_busy = drv.master.busy or drv.block
        t0 = ticks_us()
        drv.poll(t)
        busy[i] = ticks_diff(ticks_us(), t0)
        quiet[i] = not was_busy and not drv.master.busy
    idle = [busy[i] for i in range(TICKS) if quiet[i]]
    assert drv.failures == 0 and drv.cycles > 0, (drv.failures, drv.last_error)
    busy.sort()
    idle.sort()
    out[name] = {"busy": busy, "idle": idle, "cycles": drv.cycles}
print(json.dumps(out))
"""


def stats(us: list[int]) -> dict[str, float]:
    return {
        "median_us": us[len(us) // 2],
        "p99_us": us[len(us) * 99 // 100],
        "max_us": us[-1],
        "mean_us": round(sum(us) / len(us), 2),
        "ticks": len(us),
    }


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
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        name: {"busy": stats(r["busy"]), "baseline": stats(r["idle"]), "cycles": r["cycles"]}
        for name, r in raw.items()
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    ticks = 2000 if args.quick else 20000
    results: dict[str, object] = {"target_max_us": TARGET_MAX_US, "ticks": ticks}
    worst = 0
    for interp_name, interp in (
        ("micropython", [micropython_binary(), "-X", "heapsize=8M"]),
        ("cpython", [sys.executable]),
    ):
        per_map = run(interp, ticks)
        results[interp_name] = per_map
        for name, r in per_map.items():
            busy: dict[str, float] = r["busy"]  # type: ignore[assignment]
            base: dict[str, float] = r["baseline"]  # type: ignore[assignment]
            ratio = busy["mean_us"] / max(base["mean_us"], 0.01)
            r["busy_over_baseline_mean"] = round(ratio, 2)
            print(
                "%-11s %-6s busy: mean %6.1f us p99 %4d us max %4d us | baseline: mean %5.1f us | busy/baseline %.1fx"
                % (interp_name, name, busy["mean_us"], busy["p99_us"], busy["max_us"], base["mean_us"], ratio)
            )
            if interp_name == "micropython":
                worst = max(worst, int(busy["max_us"]))
    results["target_met"] = worst <= TARGET_MAX_US
    print(
        "target (micropython worst driver tick <= %d us): %s (%d us)"
        % (TARGET_MAX_US, "met" if results["target_met"] else "MISSED", worst)
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
