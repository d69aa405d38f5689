"""A simulated day of surplus charging on an accelerated clock: a PV system with passing clouds and a
building behind one higher-level meter, a point that charges from the surplus only and one that charges
from the grid, driven by the real round (`Manager`: the set-points, the surplus decisions, the phase
requests) and the IO module's own phase switch (`iomodule.phases.PhaseSwitch`, the firmware's code).

The plant: a vehicle follows a new PWM current after 2 s and draws on its phases what it is offered; on a
phase switch the module takes the PWM away, the contactor opens once the vehicle stopped, and after the
pauses it charges on the new phase count. Reported: the energy the surplus point charged, how much of it the
surplus covered, the grid import it caused, its starts and phase switches, and the most any phase of the
load circuit drew beside its fuse.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import chargedefs as cd
from iomodule.phases import PhaseSwitch

from chargepark.loadmgmt.manager import Manager

A = 1000
VOLTS = 230
SUN, GRID = "sun", "grid"


@dataclass(frozen=True)
class SurplusDay:
    seed: int = 17
    pv_peak_w: int = 9000
    fuse_a: int = 40
    start_w: int = 300
    stop_w: int = 600
    min_run_s: int = 300
    switchable: bool = True  # the surplus point has a phase contactor
    round_s: int = 5
    sun_arrives_h: float = 7.0
    sun_leaves_h: float = 19.0
    grid_at_h: tuple[float, float] = (10.0, 14.0)  # a vehicle at the grid point


def pv_w(t: float, cfg: SurplusDay, clouds: list[float]) -> int:
    """PV output: a sine from 6 to 20 h, dimmed by the cloud of the current quarter hour."""
    hour = t / 3600
    if not 6 <= hour <= 20:
        return 0
    return int(cfg.pv_peak_w * math.sin(math.pi * (hour - 6) / 14) * clouds[int(t // 900)])


def building_w(t: float) -> int:
    hour = t / 3600
    return 500 + (1500 if 11.5 <= hour <= 13 else 0)  # a base load and lunch


@dataclass
class Car:
    phases: int
    signal_ma: int = 0
    pending: tuple[float, int] | None = None

    def follow(self, now: float, ma: int) -> None:
        """Lowers at once (IEC 61851-1 allows 5 s), follows a raise after 2 s."""
        if ma < self.signal_ma:
            self.signal_ma, self.pending = ma, None
        elif ma == self.signal_ma:
            self.pending = None
        elif self.pending is None or self.pending[1] != ma:
            self.pending = (now + 2.0, ma)
        if self.pending and now >= self.pending[0]:
            self.signal_ma, self.pending = self.pending[1], None


class _Module:
    """What `PhaseSwitch.tick` reads of the point: the contactor (open once no PWM reaches the car) and the
    outputs it drives."""

    def __init__(self) -> None:
        self.contactor = False
        self.outputs = self
        self.mode = [0, 0, 0, 0]
        self.locking = self

    def contactor_open(self, _p: object) -> bool:
        return not self.contactor


@dataclass
class DayOut:
    sun_kwh: float = 0.0  # what the surplus point charged
    sun_from_surplus_kwh: float = 0.0  # the part the surplus covered
    sun_import_kwh: float = 0.0  # the rest: drawn from the grid for the surplus point
    surplus_kwh: float = 0.0  # what the PV left over the building (the most surplus charging could use)
    grid_kwh: float = 0.0  # what the grid point charged
    starts: int = 0
    phase_switches: int = 0
    one_phase_kwh: float = 0.0
    max_phase_a: float = 0.0
    exceeded: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items() if k != "samples"
        }


def run(cfg: SurplusDay = SurplusDay()) -> DayOut:
    rng = random.Random(cfg.seed)
    clouds = [1.0 if rng.random() < 0.6 else rng.uniform(0.2, 0.8) for _ in range(24 * 4 + 1)]
    entry: dict[str, Any] = {"uid": SUN, "surplus": True, "phase_switch_output": 1 if cfg.switchable else 0,
                             "phase_switch_max": 6, "phase_switch_hold_s": 300, "phase_switch_pause_s": 5}  # fmt: skip
    circuit = {"name": "PV", "fuse_a": cfg.fuse_a, "threshold_a": 3, "meter_connection": "tcp",
               "upstream_fuse_a": 100, "surplus_start_w": cfg.start_w, "surplus_stop_w": cfg.stop_w,
               "surplus_min_run_s": cfg.min_run_s, "points": [entry, {"uid": GRID}]}  # fmt: skip
    point = {"min_current_a": 6, "max_current_a": 16, "fallback_current_a": 0, "phase_rotation": "L1L2L3",
             "meter_type": "em24"}  # fmt: skip
    m = Manager(circuits={"pv": circuit}, points={SUN: dict(point), GRID: dict(point)}, volts=VOLTS)
    switch = PhaseSwitch()
    switch.fit(entry, 4)
    module = _Module()
    cars: dict[str, Car | None] = {SUN: None, GRID: None}
    setpoint = {SUN: 0, GRID: 0}
    out = DayOut()
    was_running = False
    last_phases = 3
    draw = {SUN: 0, GRID: 0}
    for t in range(0, 24 * 3600):
        hour = t / 3600
        cars[SUN] = (cars[SUN] or Car(3)) if cfg.sun_arrives_h <= hour < cfg.sun_leaves_h else None
        cars[GRID] = (cars[GRID] or Car(3)) if cfg.grid_at_h[0] <= hour < cfg.grid_at_h[1] else None
        sun_phases = switch.phases if cfg.switchable else 3
        if sun_phases != last_phases:
            out.phase_switches += cars[SUN] is not None  # in the session (a wish may land as it ends)
            last_phases = sun_phases
        # the plant: what flows now
        for uid, car in cars.items():
            offered = setpoint[uid] if car and (uid != SUN or switch.idle) else 0
            if car:
                car.follow(t, offered if offered >= 6 * A else 0)
            draw[uid] = car.signal_ma if car else 0
        module.contactor = draw[SUN] > 0
        switch.tick(module, t * 1000, cars[SUN] is not None)
        phase_ma = [draw[GRID] + draw[SUN]] + [draw[GRID] + (draw[SUN] if sun_phases == 3 else 0)] * 2
        out.max_phase_a = max(out.max_phase_a, max(phase_ma) / A)
        out.exceeded += max(phase_ma) > cfg.fuse_a * A
        sun_w = draw[SUN] * VOLTS * sun_phases // A
        grid_w = draw[GRID] * VOLTS * 3 // A
        spare = max(0, pv_w(t, cfg, clouds) - building_w(t))
        export_w = pv_w(t, cfg, clouds) - building_w(t) - sun_w - grid_w
        covered = min(sun_w, spare)  # the grid point is fed from the grid, not from the surplus
        out.sun_kwh += sun_w / 3.6e6
        out.sun_from_surplus_kwh += covered / 3.6e6
        out.sun_import_kwh += (sun_w - covered) / 3.6e6
        out.surplus_kwh += spare / 3.6e6 if cars[SUN] else 0.0
        out.grid_kwh += grid_w / 3.6e6
        out.one_phase_kwh += sun_w / 3.6e6 if sun_phases == 1 else 0.0
        if t % cfg.round_s:
            continue
        for uid, car in cars.items():
            phases = sun_phases if uid == SUN else 3
            i = draw[uid]
            flags = (cd.FLAG_ONE_PHASE if uid == SUN and switch.phases == 1 else 0) | (
                cd.FLAG_PHASE_SWITCHING if uid == SUN and not switch.idle else 0
            )
            m.on_live(uid, {"online": True, "iec_state": cd.STATE_C2 if car else cd.STATE_A1,
                            "status": cd.ST_CHARGING if car else cd.ST_AVAILABLE, "i1_ma": i,
                            "i2_ma": i if phases == 3 else 0, "i3_ma": i if phases == 3 else 0,
                            "set_current_ma": setpoint[uid], "charging_s": 0, "flags": flags}, t)  # fmt: skip
        m.on_meter(
            "pv", {"online": True, "power_mw": -export_w * 1000, "i1_ma": 0, "i2_ma": 0, "i3_ma": 0}, t
        )
        for uid, ma in m.round(t).items():
            setpoint[uid] = ma
        for uid, count in m.phase_requests().items():
            try:
                switch.request(count, t * 1000)
            except ValueError:
                m.phase_refused(uid)  # within its hold time or past its maximum: asked again next round
        running = SUN in m.surplus_since
        out.starts += running and not was_running
        was_running = running
        if t % 300 == 0:
            out.samples.append({"t": t, "pv_w": pv_w(t, cfg, clouds), "sun_w": sun_w, "phases": sun_phases})
    return out
