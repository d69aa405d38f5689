"""1-phase / 3-phase switching through a phase contactor (iomodule/phases.py) on the real micropython
binary: never under load (PWM off, main contactor open and confirmed, pause, switch, pause, PWM again), the
main contactor never closes while the phase output changes, the hold time and the switches per session."""

import chargedefs as d
from simpoint import FULL, TICK_MS, SimPoint

OUT = 2  # the phase contactor's digital output (1-based)
PAUSE_S = 2
HOLD_S = 20
CFG = dict(FULL, phase_switch_output=OUT, phase_switch_pause_s=PAUSE_S, phase_switch_hold_s=HOLD_S,
           phase_switch_max=3)  # fmt: skip


def sample(sim):
    got = sim.q("state")
    return got["point"], got["plant"]


def watch(sim, ms):
    """Step tick by tick for `ms`; every tick's (phase output level, contactor commanded, contactor closed in
    the plant, PWM on) and the point's flags."""
    out = []
    for _ in range(ms // TICK_MS):
        point, plant = sample(sim)
        on = 0 < plant["duty"] < 1000
        out.append(
            (plant["outputs"][OUT - 1], plant["contactor_cmd"], plant["contactor"], on, point["flags"])
        )
        sim.step(TICK_MS)
    return out


def started(micropython, mpy_procs, tmp_path):
    """A module configured with the phase contactor: it sets the output first (as any switch: pauses)."""
    sim = SimPoint(micropython, mpy_procs, tmp_path, CFG)
    assert sim.state()["flags"] & d.FLAG_PHASE_SWITCHING
    sim.step(2 * PAUSE_S * 1000 + 100)
    assert not sim.state()["flags"] & d.FLAG_PHASE_SWITCHING
    return sim


def refused(sim, count):
    reply = sim.request("point", name="phases", value=count)
    return not reply["ok"] and reply["error"]


def test_a_switch_stops_the_pwm_opens_the_contactor_then_switches_and_restarts(
    micropython, mpy_procs, tmp_path
):
    sim = started(micropython, mpy_procs, tmp_path)
    sim.charging_session()
    assert sample(sim)[1]["outputs"][OUT - 1] == 1  # three phases: the phase contactor energised
    sim.command("phases", 1)
    ticks = watch(sim, 15000)
    levels = [t[0] for t in ticks]
    change = next(i for i in range(1, len(ticks)) if levels[i] != levels[i - 1])
    assert levels[change] == 0 and levels[-1] == 0  # one switch, to one phase
    # the contactor never closes while the phase output changes: open (commanded and in the plant) in the
    # pause before the change and in the one after it
    pause = PAUSE_S * 1000 // TICK_MS
    for _level, cmd, closed, pwm, _ in ticks[change - pause + 1 : change + pause - 1]:
        assert not cmd and not closed and not pwm, ticks[change - pause : change + pause]
    # and PWM went off before the contactor opened: no current was broken by it
    opened = next(i for i, t in enumerate(ticks) if not t[1])
    assert not ticks[opened - 1][3] and ticks[0][3]
    assert all(t[4] & d.FLAG_PHASE_SWITCHING for t in ticks[opened:change])
    # charging again on one phase
    assert ticks[-1][1] and ticks[-1][2] and ticks[-1][3] and ticks[-1][4] & d.FLAG_ONE_PHASE
    assert not ticks[-1][4] & d.FLAG_PHASE_SWITCHING


def test_the_hold_time_and_the_switches_per_session(micropython, mpy_procs, tmp_path):
    sim = started(micropython, mpy_procs, tmp_path)
    sim.charging_session()
    sim.command("phases", 1)
    sim.command("phases", 1)  # asked again: nothing new
    assert "under way" in refused(sim, 3)
    sim.until(lambda s: s["flags"] & d.FLAG_ONE_PHASE and not s["flags"] & d.FLAG_PHASE_SWITCHING, 15000)
    assert "younger" in refused(sim, 3)  # the hysteresis
    for count in (3, 1):
        sim.step(HOLD_S * 1000)
        sim.command("phases", count)
        sim.step(TICK_MS)
        sim.until(lambda s: not s["flags"] & d.FLAG_PHASE_SWITCHING, 15000)
    sim.step(HOLD_S * 1000)
    assert "3 switches" in refused(sim, 3)  # phase_switch_max
    assert sample(sim)[1]["outputs"][OUT - 1] == 0
    sim.q("unplug")
    sim.step(500)
    sim.charging_session()  # a new session has its switches again
    sim.command("phases", 3)
    sim.step(TICK_MS)
    sim.until(lambda s: not s["flags"] & (d.FLAG_PHASE_SWITCHING | d.FLAG_ONE_PHASE), 15000)
    assert sample(sim)[1]["outputs"][OUT - 1] == 1


def test_a_welded_contactor_is_never_switched_under(micropython, mpy_procs, tmp_path):
    sim = started(micropython, mpy_procs, tmp_path)
    sim.charging_session()
    sim.fault("weld", True)
    sim.command("phases", 1)
    ticks = watch(sim, 12000)
    assert all(t[0] == 1 for t in ticks)  # the aux contact never confirms it open: the output stays
    assert ticks[-1][4] & d.FLAG_PHASE_SWITCHING


def test_without_a_phase_output_the_command_is_refused_and_configs_are_checked(
    micropython, mpy_procs, tmp_path
):
    sim = SimPoint(micropython, mpy_procs, tmp_path, FULL)
    assert "no phase contactor" in refused(sim, 1)
    assert "1 or 3" in refused(sim, 2)
    driven = dict(CFG, event_actions=[{"event": "always", "action": "do_high", "action_output": OUT}])
    reply = sim.request("configure", config=driven)
    assert not reply["ok"] and "phase contactor" in reply["error"]


def test_a_phase_output_configured_during_a_session_is_set_only_with_the_contactor_open(
    micropython, mpy_procs, tmp_path
):
    sim = SimPoint(micropython, mpy_procs, tmp_path, FULL)
    sim.charging_session()
    sim.configure(CFG)  # the head pushes a configuration with a phase contactor while charging
    ticks = watch(sim, 15000)
    levels = [t[0] for t in ticks]
    change = next(i for i in range(1, len(ticks)) if levels[i] != levels[i - 1])
    assert levels[change] == 1  # energised: three phases
    assert all(
        not cmd and not closed and not pwm for _, cmd, closed, pwm, _ in ticks[change - 1 : change + 1]
    )
    assert ticks[-1][1] and ticks[-1][2] and not ticks[-1][4] & d.FLAG_ONE_PHASE  # charging again
    sim.command("phases", 1)  # the first switch asked for: not counted against the session before it
