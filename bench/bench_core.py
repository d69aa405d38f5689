"""Benchmark: CP window statistics + classification on 1000-sample windows, samples per second, through
Cython, cffi, the twin on CPython and the twin on the real `micropython` binary (timed inside MicroPython).

Usage: bench/bench_core.py --out out/bench/core.json [--quick]. Ratios are against the twin on CPython,
measured in the same run. Targets: bench/targets.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from array import array
from pathlib import Path
from types import ModuleType

from chargepark.procs import micropython_binary

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "out" / "py"), str(ROOT / "firmware_mpy")]

import chargecore  # noqa: E402
from figures import figure, write  # noqa: E402

WINDOW = 1000

# 12-bit ADC, +-15 V full scale; windows of 2.5 PWM periods at 400 kHz: B2 50 %, C2 26.6 %, B2 5 %.
WINDOWS_SRC = """
def windows():
    from array import array
    out = []
    for high_mv, on in ((9000, 200), (6000, 106), (9000, 20)):
        hi = 2048 + high_mv * 2048 // 15000
        lo = 2048 - 12000 * 2048 // 15000
        out.append(array("H", [hi if i % 400 < on else lo for i in range(WINDOW)]))
    return out
""".replace("WINDOW", str(WINDOW))

MPY_BENCH = (
    WINDOWS_SRC
    + """
import time, chargecore
cp = chargecore.Cp(2048, 15000, 2048)
ws = windows()
best = 0
for rep in range(3):
    t0 = time.ticks_us()
    for k in range(ITERS):
        for w in ws:
            cp.update(w, 1)
    dt = time.ticks_diff(time.ticks_us(), t0)
    rate = ITERS * len(ws) * WINDOW * 1000000 // dt
    if rate > best:
        best = rate
print("RESULT", best, chargecore.BACKEND, cp.state)
"""
)


def windows() -> list[array[int]]:
    namespace: dict[str, object] = {}
    exec(WINDOWS_SRC, namespace)
    return namespace["windows"]()  # type: ignore[operator,no-any-return]


def measure(mod: ModuleType, iters: int) -> float:
    """Best of three: samples per second through cp.update (window statistics + classification)."""
    cp = mod.Cp(2048, 15000, 2048)
    ws = windows()
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(iters):
            for w in ws:
                cp.update(w, 1)
        best = max(best, iters * len(ws) * WINDOW / (time.perf_counter() - t0))
    assert cp.state == mod.STATE_B, "the benchmark windows must classify (B2 5 % last)"
    return best


def measure_micropython(iters: int, binary: str) -> tuple[float, str]:
    env = dict(os.environ, MICROPYPATH=str(ROOT / "firmware_mpy"))
    code = MPY_BENCH.replace("ITERS", str(iters)).replace("WINDOW", str(WINDOW))
    proc = subprocess.run([binary, "-X", "heapsize=8M", "-c", code], capture_output=True, text=True, env=env,
                          timeout=600, check=True)  # fmt: skip
    _, rate, backend, state = proc.stdout.split()
    assert int(state) == chargecore.use("twin").STATE_B
    return float(rate), backend


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke check)")
    parser.add_argument("--mpy-c", metavar="BINARY", default=os.environ.get("MPY_C_BINARY", ""),
                        help="also time a micropython built with the user C module (docs/core.md)")  # fmt: skip
    args = parser.parse_args()
    scale = 1 if args.quick else 10
    rates = {
        "cython": measure(chargecore.use("cython"), 300 * scale),
        "cffi": measure(chargecore.use("cffi"), 300 * scale),
        "twin_cpython": measure(chargecore.use("twin"), 3 * scale),
    }
    rates["twin_micropython"], mpy_backend = measure_micropython(5 * scale, micropython_binary())
    if args.mpy_c:
        rates["c_micropython"], c_backend = measure_micropython(300 * scale, args.mpy_c)
        assert c_backend == "micropython-c", "%s has no _chargecore module" % args.mpy_c
    base = rates["twin_cpython"]
    ratios = {name: rate / base for name, rate in rates.items()}
    details = {
        "benchmark": "CP window statistics + classification",
        "window_samples": WINDOW,
        "samples_per_s": {k: round(v) for k, v in rates.items()},
        "ratio_vs_twin_cpython": {k: round(v, 2) for k, v in ratios.items()},
        "micropython_backend": mpy_backend,
    }
    figures = [
        figure(name + "_samples_per_s", rate, "1/s", base, "twin on CPython") for name, rate in rates.items()
    ]
    figures.append(figure("cython_vs_twin_cpython", ratios["cython"], "x", 1.0, "twin on CPython"))
    print("%-18s %16s %12s" % ("backend", "samples/s", "x twin-cpy"))
    for name, rate in rates.items():
        print("%-18s %16.0f %12.2f" % (name, rate, ratios[name]))
    return 0 if write(args.out, "bench_core", figures, details, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
