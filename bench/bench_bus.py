"""Backplane bus benchmark: round trip and 12-module poll cycle on the simulated bus, codec rates.

    python bench/bench_bus.py --out out/bench/bus.json [--quick]

Round trips and cycles run against 12 IO-module programs (firmware main.py, 10 ms control tick) on the
real micropython binary, on the simulated medium at 1 Mbit/s;
the baseline in the same run is the pure air time of the same frames (what a perfect wire would take),
so the ratio is the software's overhead factor. The codec rate is measured on CPython and on the
micropython binary, each against json encode/decode of the same message on the same interpreter.
Targets: round trip p99 < 5 ms, 12-module cycle < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "firmware_mpy"), str(ROOT / "host_cpython")]

from backplane import catalog, frame  # noqa: E402
from chargepark.bus.agent import ControllerAgent  # noqa: E402
from chargepark.bus.medium import MediumThread, SimMedium  # noqa: E402
from chargepark.bus.simmodule import SimModule  # noqa: E402
from chargepark.bus.transport import SimTransport  # noqa: E402
from chargepark.procs import micropython_binary  # noqa: E402

BITRATE = 1_000_000
POSITIONS = list(range(1, 13))

# The codec workload, identical on both interpreters: encode + decode one poll and one state answer.
CODEC = """
import json, time
from backplane import catalog, frame
try:
    clock = time.ticks_us
    diff = time.ticks_diff
except AttributeError:
    clock = lambda: int(time.perf_counter() * 1e6)
    diff = lambda a, b: a - b
snap = {}
for i, n in enumerate(catalog.LIVE_NAMES):
    snap[n] = i * 7
record = catalog.live_pack(snap)
events = [[1, 5, 16000]]
def codec():
    q = frame.encode(5, 0, 1, catalog.POLL, catalog.pack(catalog.POLL, 123, 4))
    a = frame.encode(0, 5, 1, catalog.POLL | 128, catalog.pack(catalog.POLL | 128, 123, events, record))
    for raw in frame.Deframer().feed(q + a):
        _, _, _, t, p = frame.decode(raw)
        f = catalog.unpack(t, p)
    catalog.live_unpack(f[2])
def baseline():
    q = json.dumps([5, 0, 1, 3, 123, 4])
    a = json.dumps([0, 5, 1, 131, 123, events, snap])
    json.loads(q)
    json.loads(a)
def rate(fn, n):
    t = clock()
    for _ in range(n):
        fn()
    return n * 1e6 / diff(clock(), t)
N = %d
print(json.dumps([rate(codec, N), rate(baseline, N)]))
"""


def percentile(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


def air_time(nbytes: int) -> float:
    return nbytes * 10 / BITRATE


async def bus_figures(rounds: int, cycles: int, work: Path) -> dict[str, float]:
    thread = MediumThread(SimMedium(bitrate=BITRATE))
    medium = thread.start()
    mods = []
    for p in POSITIONS:
        flash = work / ("module%d" % p)
        flash.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "boards" / "sim" / "board.json", flash / "board.json")
        (flash / "identity.json").write_text(json.dumps({"uid": "bench-%d" % p, "position": p}))
        mods.append(SimModule(flash, medium.endpoint))
    try:
        for m in mods:
            await m.start()
        await asyncio.to_thread(medium.wait_for, set(POSITIONS), 60)
        agent = ControllerAgent(await SimTransport.connect(medium.endpoint), POSITIONS)
        while len(await agent.discover()) < len(POSITIONS):
            await asyncio.sleep(0.2)
        for p in POSITIONS:
            await agent.poll(p)
        rtt = []
        for i in range(rounds):
            t = time.perf_counter()
            await agent.poll(POSITIONS[i % 12])
            rtt.append(time.perf_counter() - t)
        cycle = []
        for _ in range(cycles):
            t = time.perf_counter()
            await agent.cycle()
            cycle.append(time.perf_counter() - t)
        failures = sum(agent.counters(p)["failures"] for p in POSITIONS)
    finally:
        for m in mods:
            await m.stop()
        thread.stop()
    # Air time of one poll exchange: request and answer frames as they are on the wire.
    ev = [[1, 5, 16000]]
    rec = catalog.live_pack({n: 0 for n in catalog.LIVE_NAMES})
    q = frame.encode(5, 0, 1, catalog.POLL, catalog.pack(catalog.POLL, 2**30, 4))
    a = frame.encode(0, 5, 1, catalog.POLL | 128, catalog.pack(catalog.POLL | 128, 2**30, ev, rec))
    wire = air_time(len(q)) + air_time(len(a))
    return {
        "rtt_p50_ms": percentile(rtt, 0.5) * 1e3,
        "rtt_p99_ms": percentile(rtt, 0.99) * 1e3,
        "cycle12_p50_ms": percentile(cycle, 0.5) * 1e3,
        "cycle12_max_ms": max(cycle) * 1e3,
        "poll_air_time_ms": wire * 1e3,
        "failures": failures,
    }


def codec_rates(n: int) -> dict[str, float]:
    src = CODEC % n
    scope: dict[str, object] = {}
    exec(compile(src.replace("print(json.dumps(", "RESULT = (("), "codec", "exec"), scope)
    cp_codec, cp_json = scope["RESULT"]  # type: ignore[misc]
    out = subprocess.run(
        [micropython_binary(), "-c", src],
        env=dict(os.environ, MICROPYPATH=str(ROOT / "firmware_mpy")),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    mp_codec, mp_json = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "cpython_exchanges_per_s": cp_codec,
        "cpython_json_per_s": cp_json,
        "micropython_exchanges_per_s": mp_codec,
        "micropython_json_per_s": mp_json,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    rounds, cycles, n = (300, 20, 500) if args.quick else (3000, 200, 5000)
    result = {"bitrate": BITRATE, "modules": len(POSITIONS)}
    with tempfile.TemporaryDirectory() as work:
        result.update(asyncio.run(bus_figures(rounds, cycles, Path(work))))
    result.update(codec_rates(n))
    result["targets_met"] = result["rtt_p99_ms"] < 5 and result["cycle12_max_ms"] < 50
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    r = result
    print(
        "round trip p50 %.2f ms p99 %.2f ms (target p99 < 5 ms); air time %.2f ms -> overhead x%.2f"
        % (r["rtt_p50_ms"], r["rtt_p99_ms"], r["poll_air_time_ms"], r["rtt_p50_ms"] / r["poll_air_time_ms"])
    )
    print(
        "12-module cycle p50 %.1f ms max %.1f ms (target < 50 ms); air time %.1f ms -> x%.2f"
        % (
            r["cycle12_p50_ms"],
            r["cycle12_max_ms"],
            12 * r["poll_air_time_ms"],
            r["cycle12_p50_ms"] / (12 * r["poll_air_time_ms"]),
        )
    )
    for impl in ("cpython", "micropython"):
        c, j = r[impl + "_exchanges_per_s"], r[impl + "_json_per_s"]
        print(
            "codec %s: %.0f poll exchanges/s encoded+decoded (json baseline %.0f/s, ratio %.2f)"
            % (impl, c, j, c / j)
        )
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
