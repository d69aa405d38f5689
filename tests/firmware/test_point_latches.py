"""Latches survive configuration pushes and restarts; no path unlocks under load; aborts end the session.

The defects of the independent test run (issue "Safety defects found by independent testing"), each as the
test that would have caught it, on the real micropython binary in simulated time.
"""

import chargedefs as d
import pytest
from simpoint import FULL, SimPoint, status

CHANGED = dict(FULL, max_current_a=30)  # a push that changes something the latch does not depend on


@pytest.fixture
def sim(micropython, mpy_procs, tmp_path):
    return SimPoint(micropython, mpy_procs, tmp_path, FULL)


def push_both(sim):
    """The head re-sends the same configuration, then a changed one (both happen often in the field)."""
    sim.configure(FULL)
    sim.step(100)
    sim.configure(CHANGED)
    sim.step(100)


def stop_reasons(sim):
    return [d.STOP_REASONS[e[1][5]] for e in sim.events() if e[0] == "session_stop"]


# --- each latch: provoke it, remove its cause, push twice: still latched, still not charging -----------
def weld(sim):
    sim.charging_session()
    sim.fault("weld", True)
    sim.q("pause")
    sim.until(lambda s: s["error_bits"] & d.ERR_CONTACTOR, 500, "weld detected")
    sim.fault("weld", False)
    sim.q("resume")


def by_fault(fault, bit, limit_ms, charging):
    """Inject `fault` (while charging, or before the vehicle asks), wait for `bit`, take the fault away."""

    def provoke(sim):
        if charging:
            sim.charging_session()
        sim.fault(fault, True)
        if not charging:
            sim.q("plug", cable_a=32)
            sim.q("charge")
        sim.until(lambda s: s["error_bits"] & bit, limit_ms, fault)
        sim.fault(fault, False)

    return provoke


def status_d(sim):
    sim.q("ev", ventilation=True)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: s["error_bits"] & d.ERR_STATUS_D, 3000, "status D refused")
    sim.q("ev", ventilation=False)


LATCHES = {
    "weld": (weld, d.ERR_CONTACTOR),
    "no_close": (by_fault("no_close", d.ERR_CONTACTOR, 3000, charging=False), d.ERR_CONTACTOR),
    "rcm_trip": (by_fault("rcm_trip", d.ERR_RCM_TRIP, 200, charging=True), d.ERR_RCM_TRIP),
    "rcm_self_test": (by_fault("rcm_sensor", d.ERR_RCM_SENSOR, 2000, charging=False), d.ERR_RCM_SENSOR),
    "diode": (by_fault("diode", d.ERR_DIODE, 2000, charging=False), d.ERR_DIODE),
    "pp_lost": (by_fault("pp_lost", d.ERR_PP, 200, charging=True), d.ERR_PP),
    "status_d": (status_d, d.ERR_STATUS_D),
}


@pytest.mark.parametrize("name", sorted(LATCHES))
def test_a_latch_survives_identical_and_changed_pushes(sim, name):
    provoke, bit = LATCHES[name]
    provoke(sim)
    sim.step(500)
    assert sim.state()["error_bits"] & bit
    push_both(sim)
    sim.holds(
        lambda s: s["error_bits"] & bit and s["contactor"] == 0 and status(s) == "Faulted",
        2000,
        "%s latched after the pushes" % name,
    )
    assert not sim.plant()["contactor"]
    sim.command("reset_error")
    if bit in (d.ERR_CONTACTOR, d.ERR_RCM_TRIP, d.ERR_RCM_SENSOR):
        sim.until(lambda s: not s["error_bits"] & bit, 500, "%s cleared by the reset" % name)


def test_over_temperature_holds_through_pushes_while_hot(sim):
    sim.charging_session()
    sim.q("set", temp_c=70)  # above the stop temperature (60 degC)
    sim.until(lambda s: s["error_bits"] & d.ERR_TEMP_HIGH, 200, "over-temperature")
    push_both(sim)
    sim.holds(lambda s: s["error_bits"] & d.ERR_TEMP_HIGH and s["set_current_ma"] == 0, 1000, "stopped hot")


def test_switching_monitoring_off_keeps_the_latch_and_says_so(sim):
    weld(sim)
    sim.events()
    sim.configure(dict(FULL, contactor_monitoring="off", rcm_enabled=False))
    sim.step(100)
    kept = [e[1] for e in sim.events() if e[0] == "latch_kept"]
    assert kept and kept[0] & d.ERR_CONTACTOR
    sim.holds(lambda s: s["error_bits"] & d.ERR_CONTACTOR and s["contactor"] == 0, 1000, "kept")


def test_overcurrent_wait_and_first_trip_survive_pushes(sim):
    sim.charging_session()
    sim.fault("overcurrent", True)  # 125 % draw: the 120 % rule trips after 10 s
    sim.until(lambda s: s["flags"] & d.FLAG_OVERCURRENT_WAIT, 20000, "first trip")
    for _ in range(5):  # a push every 10 s of the one-minute wait
        sim.configure(FULL)
        sim.holds(lambda s: s["set_current_ma"] == 0 and s["flags"] & d.FLAG_OVERCURRENT_WAIT, 10000, "wait")
    sim.configure(CHANGED)
    took = sim.until(lambda s: s["set_current_ma"] > 0, 11000, "restart after the minute")
    assert took >= 9000  # 10 s of the 60 s were left when the last push came
    sim.configure(FULL)
    # the trip of this session still counts: the next one is the second, an error until the vehicle leaves
    sim.until(lambda s: s["error_bits"] & d.ERR_OVERCURRENT, 20000, "second trip is an error")
    sim.configure(FULL)
    sim.holds(lambda s: s["error_bits"] & d.ERR_OVERCURRENT and s["contactor"] == 0, 2000, "error held")


def test_weld_lock_out_survives_a_module_restart(sim):
    weld(sim)
    sim.restart(FULL)
    s = sim.state()
    assert s["error_bits"] & d.ERR_CONTACTOR and status(s) == "Faulted"
    sim.q("unplug")
    sim.step(500)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.holds(lambda s: s["contactor"] == 0 and not sim.plant()["contactor_cmd"], 3000, "locked out")
    sim.command("reset_error")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging after the reset")
    sim.restart(FULL)
    sim.charging_session()  # the reset was persisted too


def watch_enforced_unlock(sim):
    """Tick by tick from the command: when PWM stopped, the contactor opened, the lock was first driven."""
    sim.command("enforce_unlock", True)
    marks = {}
    for t in range(0, 8000, 10):
        s, plant = sim.state(), sim.plant()
        if "pwm_off" not in marks and not 0 < s["duty_permille"] < 1000:
            marks["pwm_off"] = t
        if "contactor_open" not in marks and not plant["contactor"]:
            marks["contactor_open"] = t
        if plant["lock_drive"] < 0:
            assert not plant["contactor"] and not plant["contactor_cmd"] and not s["contactor"], (t, s, plant)
            marks.setdefault("unlock", t)
        if s["lock_state"] == d.LOCK_UNLOCKED:
            marks.setdefault("unlocked", t)
            break
        sim.step(10)
    return marks


def test_enforced_unlock_stops_pwm_then_opens_then_unlocks(sim):
    sim.charging_session()
    sim.step(1000)
    marks = watch_enforced_unlock(sim)
    assert marks["pwm_off"] <= 10
    assert marks["pwm_off"] < marks["contactor_open"] < marks["unlock"] < marks["unlocked"], marks
    assert stop_reasons(sim) == ["enforced_unlock"]
    print("enforced unlock (ms after the command):", marks)


def test_enforced_unlock_with_a_stubborn_vehicle_waits_for_the_forced_open(sim):
    sim.q("ev", stubborn=True)
    sim.charging_session()
    sim.step(1000)
    marks = watch_enforced_unlock(sim)
    assert 5900 <= marks["contactor_open"] <= 6100 and marks["unlock"] > marks["contactor_open"], marks


def test_a_welded_contactor_is_never_unlocked(sim):
    sim.charging_session()
    sim.fault("weld", True)
    sim.command("enforce_unlock", True)
    for _ in range(300):
        sim.step(10)
        assert sim.plant()["lock_drive"] >= 0
    assert sim.state()["lock_state"] == d.LOCK_LOCKED


def test_remote_unlock_waits_for_the_contactor(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, locking_mode="remote"))
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.command("lock")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging")
    sim.command("unlock")
    for _ in range(300):
        s, plant = sim.state(), sim.plant()
        assert plant["lock_drive"] >= 0 or not (plant["contactor"] or s["contactor"]), (s, plant)
        if s["lock_state"] == d.LOCK_UNLOCKED:
            break
        sim.step(10)
    assert sim.state()["lock_state"] == d.LOCK_UNLOCKED


def test_delete_configuration_returns_to_the_factory_face(sim):
    sim.charging_session()
    sim.command("unconfigure")
    sim.until(lambda s: s["contactor"] == 0, 100, "contactor open")
    sim.step(500)
    s = sim.state()
    assert status(s) == "Unavailable" and s["error_bits"] & d.ERR_CONFIG
    assert s["duty_permille"] == 1000 and not s["flags"] & d.FLAG_CONFIGURED
    assert stop_reasons(sim) == ["unconfigured"]
    sim.configure(FULL)
    sim.until(lambda s: s["contactor"] == 1, 3000, "a new session once configured again")


def test_disable_ends_the_session_and_its_release(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, release_mode="dashboard"))
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.command("release", True)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging")
    started = [e[1][0] for e in sim.events() if e[0] == "session_start"]
    sim.command("enable", False)
    sim.until(lambda s: s["contactor"] == 0, 100, "open")
    sim.step(100)
    events = sim.events()
    stops = [e[1] for e in events if e[0] == "session_stop"]
    assert [d.STOP_REASONS[s[5]] for s in stops] == ["disabled"] and stops[0][0] == started[0]
    sim.command("enable", True)
    sim.holds(lambda s: s["contactor"] == 0 and not s["release"], 3000, "no charging without a new release")
    sim.command("release", True)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging after a new release")
    assert [e[1][0] for e in sim.events() if e[0] == "session_start"] == [started[0] + 1]


def test_disable_in_permanent_mode_starts_a_new_session(sim):
    sim.charging_session()
    sim.command("enable", False)
    sim.step(500)
    sim.command("enable", True)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging again")
    kinds = [e[0] for e in sim.events()]
    assert kinds.count("session_start") == 2 and kinds.count("session_stop") == 1


def test_unavailable_ends_the_session(sim):
    sim.charging_session()
    sim.command("available", False)
    sim.step(200)
    assert stop_reasons(sim) == ["unavailable"]


def test_session_events_carry_meter_and_durations(sim):
    sim.q("plug", cable_a=32)
    sim.step(2000)
    sim.q("charge")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging")
    sim.step(10000)
    live = sim.state()
    sim.q("unplug")
    sim.step(100)
    events = sim.events()
    start = next(e[1] for e in events if e[0] == "session_start")
    release = next(e[1] for e in events if e[0] == "session_release")
    stop = next(e[1] for e in events if e[0] == "session_stop")
    assert start[0] == release[0] == stop[0] and start[1] >= 0
    _, meter, energy, connected_s, charging_s, reason = stop
    assert d.STOP_REASONS[reason] == "ev_disconnected"
    assert energy == meter - start[1] > 0 and energy >= live["session_wh"]
    assert connected_s >= charging_s + 2 and 10 <= charging_s <= 12
