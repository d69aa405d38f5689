"""A simulated day of one load circuit on an accelerated clock: the allocation and the applier driving a small
plant model of 12 points, beside the naive split (every point at fuse / N) on the very same vehicles.

The plant: each point is wired with a phase rotation; a vehicle arrives, draws on 1, 2 or 3 of its phases
up to its on-board charger's current, follows a new PWM current after its own reaction time (0.5..5 s),
tapers above 80 % of the energy it came for and draws nothing once full; below the point's minimum it
suspends. The head's service rounds every `round_s`; while the service is dead the points keep their last
set-point until their fallback time, then signal their fallback current (as the IO module does).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from chargepark.loadmgmt.allocate import PHASES, ROTATIONS, Circuit, Point, allocate
from chargepark.loadmgmt.apply import Applier

A = 1000
ROTATION_CYCLE = ("L1L2L3", "L2L3L1", "L3L1L2")


@dataclass(frozen=True)
class DayConfig:
    seed: int = 17
    points: int = 12
    fuse_a: int = 80
    min_a: int = 6
    max_a: int = 32
    fallback_a: int = 6
    fallback_s: int = 60
    round_s: int = 5
    step_s: int = 1  # plant resolution
    hours: float = 24.0
    dead: tuple[float, float] = (13.0, 13.5)  # the service is killed for this part of the day (hours)
    vehicles: int = 40
    upstream_fuse_a: int | None = (
        None  # a higher-level fuse over the park and a building (its meter read each round)
    )


def building_ma(t: float, cfg: DayConfig) -> tuple[int, int, int]:
    """The building's own load per phase: a base load and a midday peak mostly on L1 (a kitchen, a lift)."""
    hour = t / 3600 * 24 / cfg.hours
    peak = max(0.0, math.sin(math.pi * (hour - 8) / 10)) if 8 <= hour <= 18 else 0.0
    return (int((10 + 45 * peak) * A), int((5 + 15 * peak) * A), int(5 * A))


@dataclass
class Vehicle:
    arrive_s: int
    leave_s: int
    phases: int  # its own phases (bit 0 = the point's L1)
    max_ma: int
    need_wh: float
    reaction_s: float
    got_wh: float = 0.0
    signal_ma: int = 0  # the PWM current it follows now
    pending: tuple[float, int] | None = None  # (when it follows, new signal)
    charging_s: int = 0

    def wants_ma(self) -> int:
        """What it would draw with an unlimited signal."""
        share = self.got_wh / self.need_wh
        if share >= 1:
            return 0
        if share > 0.8:
            return int(self.max_ma * (1 - share) / 0.2)
        return self.max_ma

    def draw_ma(self, min_ma: int) -> int:
        return min(self.signal_ma, self.wants_ma()) if self.signal_ma >= min_ma else 0

    def pwm(self, now: float, ma: int) -> None:
        if self.pending is None and ma == self.signal_ma:
            return
        if self.pending is None or self.pending[1] != ma:
            self.pending = (now + self.reaction_s, ma)

    def tick(self, now: float) -> None:
        if self.pending is not None and now >= self.pending[0]:
            self.signal_ma, self.pending = self.pending[1], None


def vehicles(cfg: DayConfig) -> list[tuple[int, Vehicle]]:
    """(point index, vehicle) for the day: arrivals bunch in the morning and the evening."""
    rng = random.Random(cfg.seed)
    day_s = int(cfg.hours * 3600)
    out = []
    free_at = [0] * cfg.points
    for _ in range(cfg.vehicles):
        hour = rng.choice((7, 8, 8, 9, 10, 12, 14, 17, 18, 18, 19, 21)) + rng.random()
        arrive = int(hour * 3600 * cfg.hours / 24)
        idx = min(range(cfg.points), key=lambda i: (free_at[i] > arrive, free_at[i], rng.random()))
        if free_at[idx] > arrive:
            continue  # park full: the vehicle drives on
        stay = rng.randint(3600, 9 * 3600)
        phases = rng.choice((0b001, 0b001, 0b001, 0b011, 0b111, 0b111, 0b111))
        v = Vehicle(arrive, min(day_s, arrive + stay), phases, rng.choice((16, 16, 32)) * A,
                    rng.uniform(5000, 40000), rng.uniform(0.5, 5.0))  # fmt: skip
        free_at[idx] = v.leave_s + 60
        out.append((idx, v))
    return out


@dataclass
class DayResult:
    fuse_a: int
    utilisation: float
    naive_utilisation: float
    exceeded: int
    naive_exceeded: int
    max_phase_a: float
    energy_kwh: float
    naive_energy_kwh: float
    # the most the building and the park together went above the higher-level fuse (the building rises
    # between two rounds: no round can see that coming)
    upstream_excess_ma: int = 0
    naive_upstream_excess_ma: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)  # one a minute, for the plot

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "samples"}


def _simulate(cfg: DayConfig, managed: bool) -> tuple[float, int, float, float, int, list[dict[str, Any]]]:
    fuse = cfg.fuse_a * A
    upstream = cfg.upstream_fuse_a * A if cfg.upstream_fuse_a is not None else None
    phase_ma = [0] * PHASES
    upstream_excess = 0
    rotations = [ROTATION_CYCLE[i % 3] for i in range(cfg.points)]
    arrivals: dict[int, list[tuple[int, Vehicle]]] = {}
    for idx, planned_v in vehicles(cfg):
        arrivals.setdefault(planned_v.arrive_s - planned_v.arrive_s % cfg.step_s, []).append((idx, planned_v))
    at: list[Vehicle | None] = [None] * cfg.points
    applier = Applier()
    setpoints = [0] * cfg.points
    planned = (0, 0, 0)
    last_head = 0.0
    naive_ma = fuse // cfg.points
    delivered = deliverable = 0.0
    exceeded, peak, energy = 0, 0, 0.0
    samples: list[dict[str, Any]] = []
    dead = (cfg.dead[0] * 3600 * cfg.hours / 24, cfg.dead[1] * 3600 * cfg.hours / 24)
    v: Vehicle | None
    for t in range(0, int(cfg.hours * 3600), cfg.step_s):
        for idx, new in arrivals.get(t, ()):
            at[idx] = new
        for i, v in enumerate(at):
            if v is not None and t >= v.leave_s:
                at[i] = None
                setpoints[i] = 0
                applier.forget("p%02d" % (i + 1))  # unplugged: it draws nothing at once
        alive = not (dead[0] <= t < dead[1])
        if managed and alive and t % cfg.round_s == 0:
            last_head = t
            points = []
            for i, v in enumerate(at):
                measured = tuple(v.draw_ma(cfg.min_a * A) if v and v.phases >> k & 1 else 0 for k in range(3))
                points.append(Point("p%02d" % (i + 1), cfg.min_a * A, cfg.max_a * A, wants=v is not None,
                                    rotation=rotations[i], measured_ma=measured,  # type: ignore[arg-type]
                                    setpoint_ma=setpoints[i], charging_s=v.charging_s if v else 0))  # fmt: skip
            reading: tuple[int, int, int] | None = None
            if upstream is not None:  # the higher-level meter: the building plus the park's draw
                b = building_ma(t, cfg)
                reading = (b[0] + phase_ma[0], b[1] + phase_ma[1], b[2] + phase_ma[2])
            circuit = Circuit(
                fuse_ma=fuse, threshold_ma=3 * A, upstream_fuse_ma=upstream, upstream_ma=reading
            )
            result = allocate(circuit, points)
            planned = result.planned_ma
            grid = {u: g.grid for u, g in result.grants.items()}
            for uid, ma in applier.step(
                t, {u: g.ma for u, g in result.grants.items()}, grid, result.budget_ma
            ).items():
                setpoints[int(uid[1:]) - 1] = ma
        phase_ma = [0] * PHASES
        want_ma = [0] * PHASES
        for i, v in enumerate(at):
            if v is None:
                continue
            if not managed:
                signal = naive_ma
            elif t - last_head >= cfg.fallback_s:
                signal = cfg.fallback_a * A
            else:
                signal = setpoints[i]
            v.pwm(t, min(signal, cfg.max_a * A))
            v.tick(t)
            draw = v.draw_ma(cfg.min_a * A)
            if draw:
                v.charging_s += cfg.step_s
            wiring = ROTATIONS[rotations[i]]
            for k in range(PHASES):
                if v.phases >> k & 1:
                    phase_ma[wiring[k]] += draw
                    want_ma[wiring[k]] += min(v.wants_ma(), cfg.max_a * A)
            v.got_wh += draw * bin(v.phases).count("1") * 230 / 1000 * cfg.step_s / 3600
            energy += draw * bin(v.phases).count("1") * 230 / 1000 * cfg.step_s / 3600
        if max(phase_ma) > fuse:
            exceeded += 1
        room = [fuse] * PHASES
        if upstream is not None:
            building = building_ma(t, cfg)
            upstream_excess = max(
                upstream_excess, *(building[k] + phase_ma[k] - upstream for k in range(PHASES))
            )
            room = [min(fuse, max(0, upstream - building[k])) for k in range(PHASES)]
        peak = max(peak, *phase_ma)
        delivered += sum(phase_ma)
        deliverable += sum(min(room[k], want_ma[k]) for k in range(PHASES))
        if t % 60 == 0:
            samples.append({"t": t, "draw": list(phase_ma), "planned": list(planned), "alive": alive})
    util = delivered / deliverable if deliverable else 1.0
    return util, exceeded, peak / A, energy / 1000, upstream_excess, samples


def run(cfg: DayConfig = DayConfig()) -> DayResult:
    util, exceeded, peak, energy, up, samples = _simulate(cfg, managed=True)
    n_util, n_exceeded, _, n_energy, n_up, n_samples = _simulate(cfg, managed=False)
    for s, n in zip(samples, n_samples, strict=True):
        s["naive_draw"] = n["draw"]
    return DayResult(
        cfg.fuse_a, util, n_util, exceeded, n_exceeded, peak, energy, n_energy, up, n_up, samples
    )
