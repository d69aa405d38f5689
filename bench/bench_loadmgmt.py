"""Benchmark: load management's allocation (chargepark.loadmgmt.allocate) on CPython.

Usage: bench/bench_loadmgmt.py --out out/bench/loadmgmt.json [--quick].
- allocation time: one round for 250 points on 21 stations (mixed 1-, 2-, 3-phase vehicles, each station's
  phase rotation shifted by one, some vehicles taking less than offered, a fuse too small for every minimum),
  beside the naive split (every point fuse / N) timed on the same input in the same run;
- rounds to converge after a vehicle leaves: vehicles follow their set-points (a plant that takes what it is
  offered up to what it wants); rounds until the set-points stop changing, beside an incremental controller
  that raises a point by at most 1 A per round (the open peers' way), run on the same park.
- fuse utilisation over a simulated day (chargepark.loadmgmt.simday) beside the naive split on the same day;
  the day's plot goes to out/loadmgmt/day.svg (beside out/bench/); the same day again under a 70 A higher-level
  fuse with a building load (the most the two together went above it);
- the whole round of the one set-point path (`Manager.round`: live samples in, every circuit allocated, the
  points in no circuit set, OCPP and Modbus limits, through the applier) for 250 points on 21 stations;
- a simulated surplus day (chargepark.loadmgmt.surplusday): the surplus charged with the phase contactor
  beside the same point without one, and the starts with the hysteresis and minimum run time beside none.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path

import chargedefs as cd
from chargepark.loadmgmt import plot, simday, surplusday
from chargepark.loadmgmt.allocate import ROTATIONS, Circuit, Point, allocate
from chargepark.loadmgmt.apply import Applier
from chargepark.loadmgmt.manager import Manager
from figures import figure, write

A = 1000
ROTATION_CYCLE = ("L1L2L3", "L2L3L1", "L3L1L2")


def park(n: int = 250, stations: int = 21, seed: int = 17) -> list[Point]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        station = i % stations
        phases = rng.choice((0b001, 0b001, 0b011, 0b111, 0b111, 0b111))
        took = rng.choice((6, 10, 16, 16, 32)) * A
        out.append(
            Point(
                "st%02d-p%02d" % (station, i // stations + 1),
                6 * A,
                32 * A,
                rotation=ROTATION_CYCLE[station % 3],
                measured_ma=tuple(took if phases >> k & 1 else 0 for k in range(3)),  # type: ignore[arg-type]
                setpoint_ma=16 * A,
                charging_s=rng.randrange(0, 20000),
                limits=(("cable", 20 * A),) if i % 7 == 0 else (),
            )
        )
    return out


def naive(circuit: Circuit, points: list[Point]) -> dict[str, int]:
    share = circuit.fuse_ma // max(1, len(points))
    return {p.uid: min(share, p.max_ma) for p in points}


def timed(fn: object, rounds: int, clock: object = time.perf_counter) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = clock()  # type: ignore[operator]
        fn()  # type: ignore[operator]
        out.append((clock() - t0) * 1000)  # type: ignore[operator]
    return out


def converge_park() -> list[Point]:
    """12 points of one station, 1- and 3-phase vehicles that all want 32 A, settled on a 63 A fuse."""
    return [
        Point(
            "p%02d" % (i + 1),
            6 * A,
            32 * A,
            rotation=ROTATION_CYCLE[i % 3],
            charging_s=600 * i,
            measured_ma=(A, A, A) if i % 2 else (A, 0, 0),
        )
        for i in range(12)
    ]


def rounds_after_leave(circuit: Circuit, raise_limit_ma: int, limit: int = 200) -> int:
    """Rounds (every 5 s, each through the applier) until the set-points stop changing after p01 leaves."""
    points, applier, now = converge_park(), Applier(), 0.0

    def one_round() -> bool:
        nonlocal points, now
        result = allocate(circuit, points)
        target = {u: min(g.ma, applier.sent[u].ma + raise_limit_ma if u in applier.sent else g.ma)
                  for u, g in result.grants.items()}  # fmt: skip
        sent = applier.step(now, target, {u: g.grid for u, g in result.grants.items()}, result.budget_ma)
        # the vehicles take what they are offered (they want 32 A), on the phases they use
        points = [replace(p, setpoint_ma=sent.get(p.uid, p.setpoint_ma),
                          measured_ma=tuple(sent.get(p.uid, p.setpoint_ma) if m else 0 for m in p.measured_ma or (1, 1, 1)))  # type: ignore[arg-type]
                  if p.wants else p for p in points]  # fmt: skip
        now += 5.0
        return bool(sent)

    for _ in range(limit):  # settle first
        if not one_round():
            break
    points[0] = replace(points[0], wants=False, measured_ma=(0, 0, 0))
    applier.forget(points[0].uid)  # unplugged: it draws nothing at once
    for n in range(1, limit):
        if not one_round():
            return n - 1  # the round that changed nothing only confirms
    return limit


def manager_park(points: list[Point]) -> tuple[Manager, float]:
    """The bench park as the service sees it: 20 stations in one 400 A circuit, the 21st in none, an OCPP
    profile on every 5th point and a Modbus current on every 9th; every live sample fresh."""
    members = [p.uid for p in points if not p.uid.startswith("st20-")]
    circuit = {"name": "park", "fuse_a": 400, "threshold_a": 3, "meter_connection": "none",
               "upstream_fuse_a": 400, "points": [{"uid": u} for u in members]}  # fmt: skip
    cfg = {"min_current_a": 6, "max_current_a": 32, "fallback_current_a": 0, "phase_rotation": "L1L2L3",
           "meter_type": "em24"}  # fmt: skip
    m = Manager(
        circuits={"lc1": circuit}, points={p.uid: dict(cfg, phase_rotation=p.rotation) for p in points}
    )
    for i, p in enumerate(points):
        i1, i2, i3 = p.measured_ma or (0, 0, 0)
        m.on_live(p.uid, {"online": True, "iec_state": cd.STATE_C2, "status": cd.ST_CHARGING, "i1_ma": i1,
                          "i2_ma": i2, "i3_ma": i3, "set_current_ma": p.setpoint_ma, "charging_s": p.charging_s,
                          "flags": 0, "cable_ma": 20000 if i % 7 == 0 else 0}, 0.0)  # fmt: skip
        if i % 5 == 0:
            m.on_ocpp(p.uid, {"ma": 16000, "reason": "tx_profile"})
        if i % 9 == 0:
            m.on_modbus(p.uid, {"ma": 10000})
    return m, 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rounds = 50 if args.quick else 500
    circuit = Circuit(fuse_ma=400 * A, threshold_ma=3 * A)
    points = park()
    assert {p.rotation for p in points} <= set(ROTATIONS)
    ours = timed(lambda: allocate(circuit, points), rounds)
    base = timed(lambda: naive(circuit, points), rounds)
    result = allocate(circuit, points)
    paused = sum(1 for g in result.grants.values() if g.ma == 0)
    med, p99 = statistics.median(ours), sorted(ours)[int(len(ours) * 0.99) - 1]
    print("allocation 250 points / 21 stations: median %.2f ms p99 %.2f ms (naive fuse/N %.3f ms); %d paused"
          % (med, p99, statistics.median(base), paused))  # fmt: skip

    small = Circuit(fuse_ma=63 * A, threshold_ma=3 * A)
    converge = rounds_after_leave(small, 1 << 30)
    converge_base = rounds_after_leave(small, A)
    print(
        "rounds to converge after a vehicle leaves: %d (incremental 1 A/round: %d)"
        % (converge, converge_base)
    )

    day = simday.run(simday.DayConfig(seed=17, hours=6 if args.quick else 24))
    print("simulated day, 12 points, fuse %d A: utilisation %.1f %% (naive fuse/N %.1f %%), max phase %.1f A"
          % (day.fuse_a, day.utilisation * 100, day.naive_utilisation * 100, day.max_phase_a))  # fmt: skip

    building = simday.run(simday.DayConfig(seed=17, hours=6 if args.quick else 24, upstream_fuse_a=70))
    print("the same day under a 70 A higher-level fuse with a building load: utilisation %.1f %% (naive %.1f %%),"
          " most above the higher-level fuse %d mA (naive %d mA)"
          % (building.utilisation * 100, building.naive_utilisation * 100, building.upstream_excess_ma,
             building.naive_upstream_excess_ma))  # fmt: skip
    m, now = manager_park(points)
    m.round(0.0)  # the first round sends everything; then the steady one

    def one_round() -> None:
        nonlocal now
        now += 5.0
        for sample in m.live.values():  # every point's sample arrived since (as the agent sends them)
            sample.at = now
        m.round(now)

    # CPU time: the round is ~2 ms of work that a busy 2-core machine slices (wall time: median and p99 too)
    whole = timed(one_round, rounds, time.process_time)
    whole_med = statistics.median(whole)
    wall = timed(one_round, rounds)
    print("the whole round (Manager.round), 250 points, 1 circuit + 12 points in none: CPU median %.2f ms;"
          " wall median %.2f ms p99 %.2f ms" % (whole_med, statistics.median(wall),
                                                 sorted(wall)[int(len(wall) * 0.99) - 1]))  # fmt: skip

    sun = surplusday.run(surplusday.SurplusDay(switchable=True))
    sun_fixed = surplusday.run(surplusday.SurplusDay(switchable=False))
    sun_naive = surplusday.run(surplusday.SurplusDay(switchable=True, start_w=0, stop_w=0, min_run_s=0))
    print("surplus day: %.1f kWh of the surplus charged with the phase contactor (%.1f kWh on one phase, %d switches),"
          " %.1f kWh without; %d starts (no hysteresis/minimum run: %d); grid import %.1f %% of its charge"
          % (sun.sun_from_surplus_kwh, sun.one_phase_kwh, sun.phase_switches, sun_fixed.sun_from_surplus_kwh,
             sun.starts, sun_naive.starts, 100 * sun.sun_import_kwh / max(sun.sun_kwh, 1e-9)))  # fmt: skip
    svg = plot.write(day, Path(args.out).parent.parent / "loadmgmt" / "day.svg")
    print("the day's plot: %s" % svg)

    figures = [
        figure("alloc_250_median_ms", round(med, 3), "ms", round(statistics.median(base), 4), "naive fuse/N"),
        figure("alloc_250_p99_ms", round(p99, 3), "ms", round(sorted(base)[int(len(base) * 0.99) - 1], 4), "naive fuse/N"),
        figure("rounds_after_leave", converge, "rounds", converge_base, "incremental 1 A per round"),
        figure("day_utilisation_pct", round(day.utilisation * 100, 1), "%", round(day.naive_utilisation * 100, 1), "naive fuse/N"),
        figure("day_fuse_exceeded_samples", day.exceeded, "samples", day.naive_exceeded, "naive fuse/N"),
        figure("day_upstream_excess_ma", building.upstream_excess_ma, "mA", building.naive_upstream_excess_ma, "naive fuse/N"),
        figure("round_250_cpu_median_ms", round(whole_med, 3), "ms", round(med, 3), "the allocation alone (wall)"),
        figure("surplus_charged_kwh", round(sun.sun_from_surplus_kwh, 2), "kWh", round(sun_fixed.sun_from_surplus_kwh, 2), "no phase contactor"),
        figure("surplus_starts", sun.starts, "starts", sun_naive.starts, "no hysteresis, no minimum run"),
        figure("surplus_import_pct", round(100 * sun.sun_import_kwh / max(sun.sun_kwh, 1e-9), 1), "%",
               round(100 * sun_naive.sun_import_kwh / max(sun_naive.sun_kwh, 1e-9), 1), "no hysteresis, no minimum run"),
        figure("surplus_fuse_exceeded_samples", sun.exceeded, "samples", sun_fixed.exceeded, "no phase contactor"),
    ]  # fmt: skip
    details = {
        "plot": str(svg),
        "rounds": rounds,
        "paused_of_250": paused,
        "samples_ms": ours[:50],
        "day": day.summary(),
        "round_wall_ms": {"median": statistics.median(wall), "p99": sorted(wall)[int(len(wall) * 0.99) - 1]},
        "surplus_day": sun.summary(),
        "surplus_day_fixed": sun_fixed.summary(),
        "surplus_day_naive": sun_naive.summary(),
    }
    return 0 if write(args.out, "bench_loadmgmt", figures, details, args.quick) else 1


if __name__ == "__main__":
    raise SystemExit(main())
