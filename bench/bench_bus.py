"""Backplane bus benchmark: round trip and 12-module poll cycle on the simulated bus, codec rates.

    python bench/bench_bus.py --out out/bench/bench_bus.json [--quick]

Round trips and cycles run against 12 IO-module programs (firmware main.py, 10 ms control tick) on the
real micropython binary, on the simulated medium at 1 Mbit/s. The medium runs on the agent's own precise
event loop (no thread: no second thread to wake and no GIL to hand over per frame). The baseline in the
same run is the pure air time of the same frames (what a perfect wire would take), so the ratio is the
software's overhead factor.

The same park is measured twice: first with this process and the modules under SCHED_FIFO (when allowed:
they stand in for MCUs with a CPU each and a wire, which do not queue behind the machine's other tenants;
the targets, bench/targets.py, are judged on this one), then at normal priority (figures with `_normal`).
Where the time goes, per exchange: the module's turnaround as the medium sees it (request delivered ->
answer received) and the time the head's thread and the module's process sat runnable without a CPU
(run-queue wait, /proc/<pid>/schedstat), shown for the slowest 1 % of round trips, with the steal time
and the load average. The codec rate is measured on CPython and on the micropython binary, each against
json encode/decode of the same message on the same interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "firmware_mpy"), str(ROOT / "host_cpython")]

from backplane import catalog, frame  # noqa: E402
from chargepark.bus.agent import ControllerAgent  # noqa: E402
from chargepark.bus.medium import SimMedium, precise_loop  # noqa: E402
from chargepark.bus.simmodule import SimModule  # noqa: E402
from chargepark.bus.transport import SimTransport  # noqa: E402
from chargepark.procs import micropython_binary  # noqa: E402
from figures import figure, write  # noqa: E402

BITRATE = 1_000_000
POSITIONS = list(range(1, 13))
# The park's processes stand in for MCUs with a CPU each and for a wire: under SCHED_FIFO they get a CPU
# when they need one, as their hardware would, instead of queueing behind the machine's other tenants.
REALTIME_PRIORITY = 10

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


class TracedMedium(SimMedium):
    """The medium, noting when each request reached its module and when the module's answer came back."""

    def __init__(self) -> None:
        super().__init__(bitrate=BITRATE)
        self.delivered: dict[tuple[int, int], float] = {}  # (position, seq) -> request handed to the module
        self.answered: dict[tuple[int, int], float] = {}  # (position, seq) -> first answer bytes back

    def _deliver(self, talker: int, data: bytes) -> None:
        super()._deliver(talker, data)
        if talker == frame.HEAD:  # the first copy (a retry is the same frame again)
            self.delivered.setdefault((data[2], data[4]), time.perf_counter())  # END, ver, dst, src, seq

    def _transmit(self, talker: int, body: bytes) -> None:
        if talker != frame.HEAD:
            self.answered.setdefault((talker, body[3]), time.perf_counter())  # ver, dst, src, seq
        super()._transmit(talker, body)


class RunQueueWait:
    """Nanoseconds a thread or process has waited runnable for a CPU so far (schedstat, field 2)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDONLY)  # kept open: one pread per reading, no path lookup

    def read(self) -> int:
        return int(os.pread(self.fd, 128, 0).split()[1])

    def close(self) -> None:
        os.close(self.fd)


def steal_share(since: tuple[float, int, int] | None = None) -> tuple[float, int, int]:
    """(share of CPU time the hypervisor took from this VM since `since`, steal ticks, total ticks)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    steal, total = ticks[7], sum(ticks)
    if since is None:
        return 0.0, steal, total
    return (steal - since[1]) / max(1, total - since[2]), steal, total


def schedule(pids: list[int], realtime: bool) -> bool:
    """Every thread of `pids` under SCHED_FIFO (or back to normal); False without the privilege for it."""
    policy, param = (
        (os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
        if realtime
        else (os.SCHED_OTHER, os.sched_param(0))
    )
    try:
        for pid in pids:
            for tid in os.listdir("/proc/%d/task" % pid):
                with contextlib.suppress(ProcessLookupError):  # a thread that just ended
                    os.sched_setscheduler(int(tid), policy, param)
    except PermissionError:
        return False
    return True


async def measure(
    agent: ControllerAgent, medium: TracedMedium, pids: dict[int, int], rounds: int, cycles: int
) -> dict[str, float]:
    """Round trips (one position after the other), then whole cycles; with where the slowest went."""
    timeouts_before = sum(agent.counters(p)["timeouts"] for p in POSITIONS)
    head_wait = RunQueueWait("/proc/self/task/%d/schedstat" % threading.get_native_id())
    module_wait = {p: RunQueueWait("/proc/%d/schedstat" % pid) for p, pid in pids.items()}
    rtt, waits, turnaround = [], [], []
    steal0 = steal_share()
    for i in range(rounds):
        p = POSITIONS[i % 12]
        h0, m0 = head_wait.read(), module_wait[p].read()
        t = time.perf_counter()
        await agent.poll(p)
        rtt.append(time.perf_counter() - t)
        waits.append((head_wait.read() - h0 + module_wait[p].read() - m0) / 1e9)
        key = (p, agent.modules[p].seq)
        turnaround.append(medium.answered.get(key, 0.0) - medium.delivered.get(key, 0.0))
        medium.delivered.clear()
        medium.answered.clear()
    steal = steal_share(steal0)
    timeouts_rtt = sum(agent.counters(p)["timeouts"] for p in POSITIONS) - timeouts_before
    cycle = []
    for _ in range(cycles):
        t = time.perf_counter()
        await agent.cycle()
        cycle.append(time.perf_counter() - t)
    timeouts_cycles = sum(agent.counters(p)["timeouts"] for p in POSITIONS) - timeouts_before - timeouts_rtt
    for w in [head_wait, *module_wait.values()]:
        w.close()
    slowest = sorted(range(len(rtt)), key=rtt.__getitem__)[-max(1, len(rtt) // 100) :]
    return {
        "rtt_p50_ms": percentile(rtt, 0.5) * 1e3,
        "rtt_p99_ms": percentile(rtt, 0.99) * 1e3,
        "rtt_max_ms": max(rtt) * 1e3,
        "slowest1pct_rtt_ms": sum(rtt[i] for i in slowest) / len(slowest) * 1e3,
        "slowest1pct_cpu_wait_ms": sum(waits[i] for i in slowest) / len(slowest) * 1e3,
        "slowest1pct_module_ms": sum(turnaround[i] for i in slowest) / len(slowest) * 1e3,
        "module_turnaround_p50_ms": percentile(turnaround, 0.5) * 1e3,
        "module_turnaround_p99_ms": percentile(turnaround, 0.99) * 1e3,
        "cycle12_p50_ms": percentile(cycle, 0.5) * 1e3,
        "cycle12_max_ms": max(cycle) * 1e3,
        "timeouts": timeouts_rtt + timeouts_cycles,
        "steal_percent": steal[0] * 100,
        "load_average": os.getloadavg()[0],  # what the other tenants of the machine were doing meanwhile
    }


async def bus_figures(rounds: int, cycles: int, work: Path) -> dict[str, dict[str, float]]:
    """One measurement per scheduling policy ("realtime" only with the privilege), on the same park."""
    medium = TracedMedium()
    await medium.start()
    mods = []
    for p in POSITIONS:
        flash = work / ("module%d" % p)
        flash.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "boards" / "sim" / "board.json", flash / "board.json")
        (flash / "identity.json").write_text(json.dumps({"uid": "bench-%d" % p, "position": p}))
        mods.append(SimModule(flash, medium.endpoint))
    transport = None
    phases = {}
    try:
        for m in mods:
            await m.start()
        while not set(POSITIONS) <= set(medium.stations):
            await asyncio.sleep(0.05)
        transport = await SimTransport.connect(medium.endpoint)
        agent = ControllerAgent(transport, POSITIONS)
        while len(await agent.discover()) < len(POSITIONS):
            await asyncio.sleep(0.2)
        for p in POSITIONS:
            await agent.poll(p)
        pids = {p: m.proc.pid for p, m in zip(POSITIONS, mods, strict=True) if m.proc}
        everyone = [os.getpid(), *pids.values()]
        if schedule(everyone, realtime=True):
            phases["realtime"] = await measure(agent, medium, pids, rounds, cycles)
        schedule(everyone, realtime=False)
        phases["normal"] = await measure(agent, medium, pids, rounds, cycles)
    finally:
        for m in mods:
            await m.stop()
        if transport:
            await transport.close()
        await medium.close()
    return phases


def poll_air_time() -> float:
    """Air time of one poll exchange: request and answer frames as they are on the wire."""
    ev = [[1, 5, 16000]]
    rec = catalog.live_pack({n: 0 for n in catalog.LIVE_NAMES})
    q = frame.encode(5, 0, 1, catalog.POLL, catalog.pack(catalog.POLL, 2**30, 4))
    a = frame.encode(0, 5, 1, catalog.POLL | 128, catalog.pack(catalog.POLL | 128, 2**30, ev, rec))
    return air_time(len(q)) + air_time(len(a))


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


def report(name: str, r: dict[str, float], air: float) -> None:
    print(
        "%s: round trip p50 %.2f ms p99 %.2f ms max %.1f ms; air time %.2f ms -> overhead x%.2f at p50"
        % (name, r["rtt_p50_ms"], r["rtt_p99_ms"], r["rtt_max_ms"], air, r["rtt_p50_ms"] / air)
    )
    print(
        "  module turnaround p50 %.2f ms p99 %.2f ms; slowest 1 %%: %.2f ms, of it %.2f ms in the module and"
        " %.2f ms waiting for a CPU (head thread + module process); steal %.1f %%, load %.1f"
        % (
            r["module_turnaround_p50_ms"],
            r["module_turnaround_p99_ms"],
            r["slowest1pct_rtt_ms"],
            r["slowest1pct_module_ms"],
            r["slowest1pct_cpu_wait_ms"],
            r["steal_percent"],
            r["load_average"],
        )
    )
    print(
        "  12-module cycle p50 %.1f ms max %.1f ms; air time %.1f ms -> x%.2f at p50; %d timeouts"
        % (
            r["cycle12_p50_ms"],
            r["cycle12_max_ms"],
            12 * air,
            r["cycle12_p50_ms"] / (12 * air),
            r["timeouts"],
        )
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    rounds, cycles, n = (300, 20, 500) if args.quick else (3000, 200, 5000)
    with tempfile.TemporaryDirectory() as work, asyncio.Runner(loop_factory=precise_loop) as runner:
        phases = runner.run(bus_figures(rounds, cycles, Path(work)))
    codec = codec_rates(n)
    air = poll_air_time() * 1e3
    # The targets hold the park with a CPU when it needs one; at normal priority beside it, same park.
    judged = phases.get("realtime", phases["normal"])
    details = {"bitrate": BITRATE, "modules": len(POSITIONS), "poll_air_time_ms": air, **phases, **codec}
    details["judged"] = "realtime" if "realtime" in phases else "normal (no privilege for SCHED_FIFO)"
    figures = []
    for name, r in sorted(phases.items(), key=lambda kv: kv[1] is not judged):
        suffix = "" if r is judged else "_" + name
        figures += [
            figure("rtt_p50_ms" + suffix, r["rtt_p50_ms"], "ms", air, "air time"),
            figure("rtt_p99_ms" + suffix, r["rtt_p99_ms"], "ms", air, "air time"),
            figure(
                "slowest1pct_cpu_wait_ms" + suffix,
                r["slowest1pct_cpu_wait_ms"],
                "ms",
                r["slowest1pct_rtt_ms"],
                "their round trip",
            ),
            figure(
                "slowest1pct_module_ms" + suffix,
                r["slowest1pct_module_ms"],
                "ms",
                r["slowest1pct_rtt_ms"],
                "their round trip",
            ),
            figure("cycle12_p50_ms" + suffix, r["cycle12_p50_ms"], "ms", 12 * air, "air time"),
            figure("cycle12_max_ms" + suffix, r["cycle12_max_ms"], "ms", 12 * air, "air time"),
            figure("timeouts" + suffix, r["timeouts"], "count"),
            figure("steal_percent" + suffix, r["steal_percent"], "%"),  # the hypervisor's share: no fix here
        ]
    for impl in ("cpython", "micropython"):
        c, j = codec[impl + "_exchanges_per_s"], codec[impl + "_json_per_s"]
        figures.append(figure(impl + "_codec_per_s", c, "1/s", j, "json on " + impl))
    for name, r in phases.items():
        report(name + (" (judged)" if r is judged else ""), r, air)
    for impl in ("cpython", "micropython"):
        c, j = codec[impl + "_exchanges_per_s"], codec[impl + "_json_per_s"]
        print(
            "codec %s: %.0f poll exchanges/s encoded+decoded (json baseline %.0f/s, ratio %.2f)"
            % (impl, c, j, c / j)
        )
    return 0 if write(args.out, "bench_bus", figures, details, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
