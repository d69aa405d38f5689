"""Equal distribution of a load circuit's current, per grid phase (manual "WBM - Load Management").

A pure function: `allocate(circuit, points)` -> `Allocation`. Every current is an integer in mA, per phase.

- Each point's vehicle draws on 1, 2 or 3 of its own phases (detected from its measured currents, or
  every phase while nothing is measured); its phase rotation maps them to the grid phases L1..L3.
- Each grid phase has a budget: the load circuit fuse, capped by the circuit-wide limits (Modbus register
  167, OCPP GlobalMaxCurrent) and by the higher-level fuse minus the building load (the higher-level meter's
  reading minus the park's own draw; without a reading, the higher-level fuse alone).
- Each point may get between its minimum and its ceiling: the least of its configured maximum, its own limits
  (cable, OCPP MaxCurrent / composite schedule, Event Action, derating) and, when the vehicle draws less
  than its set-point by more than the threshold, what it draws plus the threshold (the rest is redistributed).
- The minimums must fit on every phase; where they do not, the vehicles with the longest charging duration
  on an overloaded phase are paused (0 mA) first. A later round resumes them when room appears.
- Above the minimums the current is filled equally (max-min fair): one level rises for every point until a
  phase is full; the points on that phase stop there, the others rise on, so current one phase cannot use
  goes to the vehicles on the other phases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

PHASES = 3
ALL_PHASES = 0b111
_ON = tuple(
    tuple(k for k in range(PHASES) if mask >> k & 1) for mask in range(ALL_PHASES + 1)
)  # mask -> phases
DETECT_MA = 1000  # a vehicle phase drawing at least this much is in use
UNLIMITED = 1 << 40

# the grid phase (0..2) each of the point's own phases L1, L2, L3 is wired to; "unknown" is taken as L1L2L3
ROTATIONS: dict[str, tuple[int, int, int]] = {
    "unknown": (0, 1, 2),
    "L1L2L3": (0, 1, 2),
    "L2L3L1": (1, 2, 0),
    "L3L1L2": (2, 0, 1),
    "L1L3L2": (0, 2, 1),
    "L3L2L1": (2, 1, 0),
    "L2L1L3": (1, 0, 2),
}

# why a point got what it got ("why is this point limited")
WANTS_LESS = "vehicle"  # the vehicle draws less than offered: its share went to the others
MAXIMUM = "max_current"  # the point's configured maximum
PAUSED_MINIMUMS = "paused_minimums"  # minimums did not fit: paused, longest charging first
BELOW_MINIMUM = "below_minimum"  # a limit below the point's minimum: suspended
IDLE = "idle"  # no vehicle wants current
FUSE = "load_circuit"  # the load circuit fuse is full on one of its phases
UPSTREAM = "higher_level_fuse"  # the higher-level fuse (with the building load) is full


@dataclass(frozen=True)
class Circuit:
    fuse_ma: int
    threshold_ma: int = 3000
    upstream_fuse_ma: int | None = None  # None: no higher-level meter configured
    upstream_ma: tuple[int, int, int] | None = None  # the higher-level meter's reading; None: lost
    # circuit-wide per-phase caps: ("modbus_167", mA), ("ocpp_global", mA)
    limits: tuple[tuple[str, int], ...] = ()
    reserved_ma: int = 0  # per phase, for points out of reach (offline: on their fallback current)


@dataclass(frozen=True)
class Point:
    uid: str
    min_ma: int
    max_ma: int
    wants: bool = True  # a vehicle is connected, released and may charge
    rotation: str = "unknown"
    measured_ma: tuple[int, int, int] | None = (0, 0, 0)  # the point's own phases; None: its meter is lost
    setpoint_ma: int = 0  # what it was given last round
    charging_s: int = 0
    seen_phases: int = 0  # vehicle phases (bit 0 = L1) that drew current earlier in this session
    limits: tuple[tuple[str, int], ...] = ()  # ("cable", mA), ("ocpp", mA), ("event_action", mA), ...


@dataclass(frozen=True)
class Grant:
    ma: int
    reason: str  # the binding limit (see the names above, or a limit's name)
    phases: int  # the vehicle phases counted (bit 0 = the point's L1)
    grid: int  # the grid phases they are wired to (bit 0 = L1)


@dataclass
class Allocation:
    grants: dict[str, Grant]
    budget_ma: tuple[int, int, int]  # what the points may take per grid phase
    budget_reason: tuple[str, str, str]
    planned_ma: tuple[int, int, int]  # the sum of the grants per grid phase
    limiting: bool  # some vehicle gets less than it would take
    notes: list[str] = field(default_factory=list)  # safe assumptions taken (lost meters)


def vehicle_phases(p: Point) -> int:
    """The vehicle phases counted for a point: those that drew current (now or earlier in the session);
    every phase while none has (a vehicle may start on any) or when the meter is lost."""
    if p.measured_ma is None:
        return p.seen_phases or ALL_PHASES
    now = sum(1 << k for k in range(PHASES) if p.measured_ma[k] >= DETECT_MA)
    return (now | p.seen_phases) or ALL_PHASES


def grid_phases(rotation: str, phases: int) -> int:
    wiring = ROTATIONS[rotation]
    return sum(1 << wiring[k] for k in _ON[phases])


def draw_ma(p: Point) -> tuple[int, int, int]:
    """What the point draws per grid phase: measured, or its set-point on its phases when the meter is lost."""
    out = [0, 0, 0]
    wiring = ROTATIONS[p.rotation]
    phases = vehicle_phases(p)
    for k in range(PHASES):
        if p.measured_ma is not None:
            out[wiring[k]] += max(0, p.measured_ma[k])
        elif phases >> k & 1:
            out[wiring[k]] += p.setpoint_ma
    return (out[0], out[1], out[2])


def ceiling(p: Point, threshold_ma: int) -> tuple[int, str]:
    """The most a point may get, and the limit that sets it."""
    top, reason = p.max_ma, MAXIMUM
    for name, ma in p.limits:
        if ma < top:
            top, reason = ma, name
    if p.measured_ma is not None and p.setpoint_ma > 0:
        took = max(p.measured_ma)
        wants = max(took + threshold_ma, p.min_ma)
        if p.setpoint_ma - took > threshold_ma and wants < top:
            top, reason = wants, WANTS_LESS
    return top, reason


def _budgets(circuit: Circuit, points: Sequence[Point]) -> tuple[list[int], list[str], list[str]]:
    budget = [max(0, circuit.fuse_ma - circuit.reserved_ma)] * PHASES
    why = [FUSE] * PHASES
    notes: list[str] = []
    for name, ma in circuit.limits:
        for k in range(PHASES):
            if ma - circuit.reserved_ma < budget[k]:
                budget[k], why[k] = max(0, ma - circuit.reserved_ma), name
    if circuit.upstream_fuse_ma is not None:
        room = [circuit.upstream_fuse_ma - circuit.reserved_ma] * PHASES
        if circuit.upstream_ma is None:
            notes.append("higher-level meter lost: the higher-level fuse alone")
        else:
            own = [0, 0, 0]
            for p in points:
                for k, ma in enumerate(draw_ma(p)):
                    own[k] += ma
            room = [room[k] - max(0, circuit.upstream_ma[k] - own[k]) for k in range(PHASES)]
        for k in range(PHASES):
            if room[k] < budget[k]:
                budget[k], why[k] = max(0, room[k]), UPSTREAM
    for p in points:
        if p.wants and p.measured_ma is None:
            notes.append("meter of %s lost: its set-point counted as its draw" % p.uid)
    return budget, why, notes


def _level(budget: int, spans: list[tuple[int, int]]) -> int:
    """The highest level L with sum(clamp(L, lo, hi)) <= budget; UNLIMITED when even every hi fits."""
    value = sum(lo for lo, _ in spans)
    if sum(hi for _, hi in spans) <= budget:
        return UNLIMITED
    edges = sorted([(lo, 1) for lo, hi in spans if hi > lo] + [(hi, -1) for lo, hi in spans if hi > lo])
    at, slope = 0, 0
    for edge, step in edges:
        if slope and value + slope * (edge - at) > budget:
            break
        value += slope * (edge - at)
        at, slope = edge, slope + step
    return at + (budget - value) // slope if slope else at


def _add(sums: list[int], grid: int, ma: int) -> None:
    for k in _ON[grid]:
        sums[k] += ma


def _over(need: list[int], budget: list[int]) -> int:
    return sum(1 << k for k in range(PHASES) if need[k] > budget[k])


def allocate(circuit: Circuit, points: Sequence[Point]) -> Allocation:
    budget, why, notes = _budgets(circuit, points)
    grants: dict[str, Grant] = {}
    active: list[tuple[Point, int, int, int, str]] = []  # point, vehicle phases, grid phases, ceiling, reason
    for p in points:
        phases = vehicle_phases(p)
        grid = grid_phases(p.rotation, phases)
        if not p.wants:
            grants[p.uid] = Grant(0, IDLE, phases, grid)
            continue
        top, reason = ceiling(p, circuit.threshold_ma)
        if top < p.min_ma:
            grants[p.uid] = Grant(0, BELOW_MINIMUM if reason == MAXIMUM else reason, phases, grid)
            continue
        active.append((p, phases, grid, top, reason))

    # minimums first: pause the longest charging on an overloaded phase until they fit
    need = [0, 0, 0]
    for a in active:
        _add(need, a[2], a[0].min_ma)
    paused = []
    over = _over(need, budget)
    if over:
        for a in sorted(active, key=lambda a: (-a[0].charging_s, a[0].uid)):
            if a[2] & over:
                paused.append(a)
                _add(need, a[2], -a[0].min_ma)
                over = _over(need, budget)
                if not over:
                    break
    # a later pause may have made room for an earlier one: the shortest charging get back in first
    resumed = set()
    for a in reversed(paused):
        if all(need[k] + a[0].min_ma <= budget[k] for k in _ON[a[2]]):
            resumed.add(a[0].uid)
            _add(need, a[2], a[0].min_ma)
    for p, phases, grid, _, _ in paused:
        if p.uid not in resumed:
            grants[p.uid] = Grant(0, PAUSED_MINIMUMS, phases, grid)
    active = [a for a in active if a[0].uid not in grants]

    # then one level for all, phase by phase as each fills
    used = [0, 0, 0]
    open_phases = ALL_PHASES
    while active:
        levels = []
        for k in range(PHASES):
            if open_phases >> k & 1:
                spans = [(a[0].min_ma, a[3]) for a in active if a[2] >> k & 1]
                levels.append((_level(budget[k] - used[k], spans) if spans else UNLIMITED, k))
        level, _ = min(levels) if levels else (UNLIMITED, 0)
        full = sum(1 << k for lv, k in levels if lv == level) if level < UNLIMITED else ALL_PHASES
        rest = []
        for p, phases, grid, top, reason in active:
            if grid & full or level >= UNLIMITED:
                ma = min(max(level, p.min_ma), top)
                if ma < top:
                    reason = why[_ON[grid & full][0]]
                grants[p.uid] = Grant(ma, reason, phases, grid)
                _add(used, grid, ma)
            else:
                rest.append((p, phases, grid, top, reason))
        active = rest
        open_phases &= ~full

    planned = [0, 0, 0]
    for g in grants.values():
        _add(planned, g.grid, g.ma)
    phase_full = {*why, PAUSED_MINIMUMS}
    limiting = any(g.reason in phase_full for g in grants.values())
    return Allocation(
        grants,
        (budget[0], budget[1], budget[2]),
        (why[0], why[1], why[2]),
        (planned[0], planned[1], planned[2]),
        limiting,
        notes,
    )
