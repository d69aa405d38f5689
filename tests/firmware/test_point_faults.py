"""Every injected fault and the point's reaction and timing (real micropython binary, simulated time).

Reactions: contactor open within 100 ms, state F held >= 300 ms, status Faulted with the error bit of
charx-interfaces.md section 4, and the fault's own recovery rule."""

import chargedefs as d
import pytest
from simpoint import FULL, SimPoint, iec, status

F_HOLD_MS = 300


@pytest.fixture
def sim(micropython, mpy_procs, tmp_path):
    return SimPoint(micropython, mpy_procs, tmp_path, FULL)


def trip(sim, fault, bit, **extra):
    """Inject `fault` while charging; assert open <= 100 ms, the error bit, and F for >= 300 ms."""
    sim.charging_session()
    sim.fault(fault, True, **extra) if extra else sim.fault(fault, True)
    took = sim.until(lambda s: s["contactor"] == 0, 100, "open after %s" % fault)
    assert took <= 100
    s = sim.state()
    assert s["error_bits"] & bit, s
    assert status(s) == "Faulted"
    sim.holds(lambda s: iec(s) == "F", F_HOLD_MS - took, "state F hold")


def test_rcm_trip_latches_until_reset(sim):
    trip(sim, "rcm_trip", d.ERR_RCM_TRIP)
    sim.fault("rcm_trip", False)
    sim.step(2000)
    s = sim.state()
    assert s["error_bits"] & d.ERR_RCM_TRIP and s["contactor"] == 0  # latched
    sim.command("reset_error")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging after reset")


def test_rcm_self_test_runs_before_each_session_and_a_dead_sensor_blocks(sim):
    sim.fault("rcm_sensor", True)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.step(1500)
    s = sim.state()
    assert s["error_bits"] & d.ERR_RCM_SENSOR and s["contactor"] == 0 and s["set_current_ma"] == 0
    assert sim.plant()["draw_ma"] == 0


def test_rcm_self_test_delays_the_pwm(sim):
    sim.q("plug", cable_a=32)
    sim.step(10)
    assert sim.state()["duty_permille"] == 1000  # no PWM while the self-test runs
    sim.until(lambda s: 0 < s["duty_permille"] < 1000, 1000, "PWM after the self-test")


def test_contactor_weld_locks_out(sim):
    sim.charging_session()
    sim.fault("weld", True)
    sim.q("pause")  # C->B: the firmware opens, the contacts stay welded
    took = sim.until(lambda s: s["error_bits"] & d.ERR_CONTACTOR, 300, "weld detected")
    assert took <= 300  # CP sees B, the coil opens, then the 250 ms feedback timeout
    s = sim.state()
    assert status(s) == "Faulted" and s["contactor"] == 0
    sim.holds(lambda s: iec(s) == "F", F_HOLD_MS - 20, "state F hold")
    kinds = [e[0] for e in sim.events()]
    assert "error_new" in kinds
    # never closes again, even when the vehicle asks
    sim.q("resume")
    sim.holds(lambda s: s["contactor"] == 0 and not sim_coil(sim), 2000, "weld lock-out")


def sim_coil(sim):
    return sim.plant()["contactor_cmd"]


def test_contactor_fails_to_close(sim):
    sim.fault("no_close", True)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: s["error_bits"] & d.ERR_CONTACTOR, 3000, "not closed detected")
    s = sim.state()
    assert s["contactor"] == 0 and status(s) == "Faulted"


def test_contactor_monitoring_nc_contact(micropython, mpy_procs, tmp_path):
    # board sim wires an N/O auxiliary contact: configured as N/C it reads "closed" at rest -> error
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, contactor_monitoring="nc"))
    sim.step(400)
    assert sim.state()["error_bits"] & d.ERR_CONTACTOR


def test_pp_lost_while_charging(sim):
    trip(sim, "pp_lost", d.ERR_PP)
    sim.fault("pp_lost", False)
    sim.step(1000)
    assert sim.state()["error_bits"] & d.ERR_PP  # latched until the vehicle leaves
    sim.q("unplug")
    sim.step(200)
    s = sim.state()
    assert not s["error_bits"] & d.ERR_PP and status(s) == "Available"


def test_missing_diode_never_closes(sim):
    sim.fault("diode", True)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: s["error_bits"] & d.ERR_DIODE, 2000, "diode fault")
    sim.holds(lambda s: s["contactor"] == 0, 2000, "open without diode")
    assert status(sim.state()) == "Faulted"


def test_pilot_short_is_state_e(sim):
    trip(sim, "pilot_short", d.ERR_CP)
    sim.fault("pilot_short", False)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging after the short is gone")


def test_temperature_derating_and_trip(sim):
    sim.charging_session()
    sim.q("set", temp_c=50)  # halfway 40..60 degC: 16 A -> 10 A linear = 13 A
    sim.step(10)
    s = sim.state()
    assert s["flags"] & d.FLAG_DERATING and s["error_bits"] & d.ERR_TEMP_DERATING
    assert s["set_current_ma"] == 13000 and s["temp_dc"] == 500
    assert status(s) == "Charging"
    sim.q("set", temp_c=60)
    sim.until(lambda s: s["error_bits"] & d.ERR_TEMP_HIGH, 100, "trip at the stop temperature")
    assert sim.until(lambda s: s["contactor"] == 0, 100, "open") <= 100
    sim.q("set", temp_c=30)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging when cool again")
    assert "ea" not in status(sim.state())


@pytest.mark.parametrize("fault", ["pt1000_open", "pt1000_short"])
def test_broken_pt1000_stops_charging(sim, fault):
    trip(sim, fault, d.ERR_TEMP_HIGH)


def test_ptc_chain_trips(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, temp_sensor="ptc", ptc_trip_ohm=1500))
    sim.charging_session()  # the plant's sensor reads ~1097 Ohm at 25 degC
    sim.q("set", temp_c=140)  # ~1535 Ohm
    sim.until(lambda s: s["error_bits"] & d.ERR_TEMP_HIGH and s["contactor"] == 0, 100, "PTC trip")


def test_overcurrent_restart_after_a_minute_then_error(sim):
    sim.q("ev", reaction_ms=0)
    sim.charging_session()
    sim.q("set", overdraw_pct=125)
    sim.fault("overcurrent", True)
    # > 120 % for 10 s after the 7 s grace period: stop, SuspendedEVSE, restart after 60 s
    took = sim.until(lambda s: s["flags"] & d.FLAG_OVERCURRENT_WAIT, 20000, "first trip")
    assert 16000 <= took <= 17500
    s = sim.state()
    assert s["set_current_ma"] == 0 and s["duty_permille"] == 1000 and not s["error_bits"]
    sim.until(lambda s: s["contactor"] == 0, 6000, "open after the stop")
    assert status(sim.state()) == "SuspendedEVSE"
    took = sim.until(lambda s: s["set_current_ma"] > 0, 61000, "restart")
    assert 53000 <= took <= 61000
    sim.until(lambda s: s["error_bits"] & d.ERR_OVERCURRENT, 20000, "second trip = error")
    assert status(sim.state()) == "Faulted"
    sim.until(lambda s: s["contactor"] == 0, 100, "open")
    sim.q("unplug")
    sim.step(400)  # the rest of the F hold, then state A
    assert not sim.state()["error_bits"] & d.ERR_OVERCURRENT  # cleared when the vehicle left


def test_out_of_balance_limits_the_set_current(sim):
    sim.q("ev", phases=1, reaction_ms=0)
    sim.charging_session()
    sim.step(100)
    # a single-phase vehicle: L1 carries everything, the other phases 0 -> limited to 20 A
    s = sim.state()
    assert s["i2_ma"] == 0 and s["set_current_ma"] == 20000


def test_meter_silence_is_reported(sim):
    sim.fault("meter_comm", True)
    sim.step(20)
    assert sim.state()["error_bits"] & d.ERR_METER_COMM


def test_evze_ready_derates_in_stages_instead_of_stopping(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, overcurrent="evze"))
    sim.q("ev", reaction_ms=0)
    sim.charging_session()
    sim.q("set", overdraw_pct=125)
    sim.fault("overcurrent", True)
    sim.until(lambda s: s["set_current_ma"] == 24000, 20000, "stage 2: 75 % of 32 A")
    s = sim.state()
    assert s["contactor"] == 1 and not s["error_bits"] and status(s) == "Charging"


def test_a_first_overcurrent_trip_does_not_follow_the_next_vehicle(sim):
    sim.q("ev", reaction_ms=0)
    sim.q("set", overdraw_pct=125)
    sim.fault("overcurrent", True)
    sim.charging_session()
    sim.until(lambda s: s["flags"] & d.FLAG_OVERCURRENT_WAIT, 20000, "first trip")
    sim.q("unplug")
    sim.step(200)
    sim.charging_session()
    sim.until(lambda s: s["flags"] & d.FLAG_OVERCURRENT_WAIT, 20000, "first trip of the next vehicle")
    assert not sim.state()["error_bits"] & d.ERR_OVERCURRENT


def test_reset_error_runs_the_rcm_self_test_again(sim):
    sim.fault("rcm_sensor", True)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: s["error_bits"] & d.ERR_RCM_SENSOR, 2000, "self-test failed")
    sim.fault("rcm_sensor", False)
    sim.command("reset_error")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging after a passed self-test")
