"""Surplus charging: the points of a load circuit that opted in charge only from what the higher-level meter
sees exported (a PV system behind the same connection), a pure function run before the allocation.

The meter measures the building, the PV and the park together, so what the surplus points may use is the
export plus what they draw themselves. Each round, in the order they started (the longest running first, so
a dip stops the newest), a point

- keeps running while the surplus left for it covers its minimum charging power less `stop_w` (the grid
  import tolerated), or while it has run less than `min_run_s` (contactors and vehicles do not like
  chatter); else it stops;
- starts when the surplus left exceeds its minimum power by `start_w` (start + stop is the hysteresis);
- with a phase contactor (iomodule/phases.py) asks for one phase when three would not fit but one does,
  and for three again once the surplus covers the three-phase minimum plus `start_w`: a surplus below
  3 x 6 A still charges.

What the running points' minimums leave is shared equally in power; the result is a cap per point (the
allocation's `surplus` limit: 0 = stopped) and the phase count to ask for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SURPLUS = "surplus"  # the limit's name in "why is this point limited"


@dataclass(frozen=True)
class Settings:
    start_w: int = 0
    stop_w: int = 500
    min_run_s: float = 300.0
    volts: int = 230  # the park's nominal phase voltage


@dataclass(frozen=True)
class Candidate:
    uid: str
    min_ma: int
    max_ma: int
    wants: bool  # a vehicle is connected and may charge
    phases: int  # phases the vehicle draws on now (1..3; 3 while unknown)
    draw_w: int  # what it draws now (inside the meter's reading)
    switchable: bool = False  # has a phase contactor
    one_phase: bool = False  # its phase contactor is at one phase now
    running_since: float | None = None  # when it started from the surplus; None: stopped


@dataclass(frozen=True)
class Decision:
    ma: int  # the cap for the allocation; 0: stopped
    phases: int | None  # the phase count to ask the module for; None: no phase contactor
    running_since: float | None


def min_w(c: Candidate, phases: int, volts: int) -> int:
    return c.min_ma * volts * phases // 1000


def _phases(c: Candidate, avail: int, s: Settings) -> int:
    """The phase count the surplus supports for a point (its vehicle's own when it has no contactor): up
    to three only with `start_w` to spare, down to one only `stop_w` short (the hysteresis)."""
    if not c.switchable or (c.phases < 3 and not c.one_phase):  # a 1- or 2-phase vehicle: no gain
        return c.phases
    three = min_w(c, 3, s.volts)
    on_three = c.running_since is not None and not c.one_phase
    return 3 if avail >= (three - s.stop_w if on_three else three + s.start_w) else 1


def decide(s: Settings, export_w: int, points: Sequence[Candidate], now: float) -> dict[str, Decision]:
    """`export_w`: what the higher-level meter sees flowing out (negative: drawn from the grid)."""
    avail = export_w + sum(c.draw_w for c in points if c.running_since is not None)
    out: dict[str, Decision] = {}
    running: list[tuple[Candidate, int, float]] = []
    order = sorted(points, key=lambda c: (c.running_since is None, c.running_since or 0.0, c.uid))
    for c in order:
        phases = _phases(c, avail, s)
        need = min_w(c, phases, s.volts)
        if not c.wants:
            out[c.uid] = Decision(0, None, None)
            continue
        if c.running_since is not None:
            keep = avail >= need - s.stop_w or now - c.running_since < s.min_run_s
        else:
            keep = avail >= need + s.start_w
        if keep:
            avail -= need
            running.append((c, phases, now if c.running_since is None else c.running_since))
        else:
            out[c.uid] = Decision(0, None, None)  # stopped: the phase contactor stays (no switch spent)
    share = max(0, avail) // len(running) if running else 0
    for c, phases, since in running:
        drawn_on = max(phases, 1 if c.one_phase else c.phases)  # until a switch to one phase is done
        ma = min(c.max_ma, c.min_ma + share * 1000 // (s.volts * drawn_on))
        out[c.uid] = Decision(ma, phases if c.switchable else None, since)
    return out
