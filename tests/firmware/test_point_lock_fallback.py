"""Locking actuators of the three socket types, enforced unlock, remote locking; head loss and fallback
(real micropython binary, simulated time)."""

import json

import chargedefs as d
import pytest
from iomodule import lock
from simpoint import FULL, ROOT, SimPoint, status

BOARD = json.loads((ROOT / "boards" / "sim" / "board.json").read_text())


@pytest.mark.parametrize("socket_type", ["marquardt4", "kuester4", "hella3"])
def test_lock_on_connect_unlock_on_disconnect(micropython, mpy_procs, tmp_path, socket_type):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, socket_type=socket_type))
    sim.step(1000)  # power-on: the actuator reports unlocked, nothing moves
    assert sim.state()["lock_state"] == d.LOCK_UNLOCKED
    prof = lock.profile(BOARD, socket_type)
    sim.q("plug", cable_a=32)
    took = sim.until(lambda s: s["lock_state"] == d.LOCK_LOCKED, 2000, "locked")
    # one drive pulse of the profile, then the feedback check after the settle time
    assert prof["pulse_ms"] + prof["settle_ms"] <= took <= prof["pulse_ms"] + prof["settle_ms"] + 30
    assert sim.plant()["locked"]
    sim.q("charge")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging")
    sim.q("unplug")
    assert sim.until(lambda s: s["lock_state"] == d.LOCK_UNLOCKED, 5000, "unlocked") <= 5000
    assert sim.plant()["lock_pos"] == 0


@pytest.mark.parametrize("socket_type", ["marquardt4", "hella3"])
def test_lock_failure_is_an_error_and_blocks_charging(micropython, mpy_procs, tmp_path, socket_type):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, socket_type=socket_type))
    sim.fault("lock_jam", True)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: s["error_bits"] & d.ERR_LOCK, 5000, "lock error after the retries")
    s = sim.state()
    assert s["lock_state"] == d.LOCK_ERROR and s["contactor"] == 0 and status(s) == "Faulted"
    assert not sim.plant()["contactor_cmd"]


def test_unlock_failure_is_an_error(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, socket_type="kuester4"))
    sim.charging_session()
    sim.fault("unlock_jam", True)
    sim.q("unplug")
    sim.until(lambda s: s["error_bits"] & d.ERR_UNLOCK, 5000, "unlock error")


def test_enforced_unlock_aborts_and_holds_until_the_plug_is_out(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, FULL)
    sim.charging_session()
    sim.command("enforce_unlock", True)
    sim.until(lambda s: s["contactor"] == 0, 6000, "session aborted")
    sim.until(lambda s: s["lock_state"] == d.LOCK_UNLOCKED, 2000, "unlocked")
    # the vehicle is still connected: the socket stays unlocked, no charging, Finishing
    sim.holds(
        lambda s: (
            s["lock_state"] == d.LOCK_UNLOCKED and s["contactor"] == 0 and s["flags"] & d.FLAG_ENFORCED_UNLOCK
        ),
        2000,
        "enforced unlock held",
    )
    assert status(sim.state()) == "Finishing"
    sim.q("unplug")
    sim.step(50)
    assert not sim.state()["flags"] & d.FLAG_ENFORCED_UNLOCK
    sim.charging_session()  # the next session locks and charges normally


def test_remote_locking_mode(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, locking_mode="remote"))
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.step(2000)
    s = sim.state()
    assert s["lock_state"] == d.LOCK_UNLOCKED and s["contactor"] == 0  # nothing locks by itself
    sim.command("lock")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging once locked remotely")
    sim.q("unplug")
    sim.step(3000)
    assert sim.state()["lock_state"] == d.LOCK_LOCKED  # stays locked until told
    sim.command("unlock")
    sim.until(lambda s: s["lock_state"] == d.LOCK_UNLOCKED, 2000, "remote unlock")


def test_fallback_when_the_head_is_silent_and_recovery(micropython, mpy_procs, tmp_path):
    cfg = dict(FULL, fallback_current_a=8, fallback_time_s=2)
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    sim.charging_session()
    sim.command("setpoint_ma", 25000)
    sim.step(10)
    sim.q("link", online=False)
    took = sim.until(lambda s: s["flags"] & d.FLAG_FALLBACK, 3000, "fallback")
    assert 1990 <= took <= 2010
    s = sim.state()
    assert s["set_current_ma"] == 8000 and status(s) == "Charging" and s["contactor"] == 1
    sim.holds(lambda s: s["contactor"] == 1 and s["set_current_ma"] == 8000, 5000, "charging at fallback")
    sim.q("link", online=True)
    sim.step(10)
    assert not sim.state()["flags"] & d.FLAG_FALLBACK
    sim.until(lambda s: s["set_current_ma"] == 25000, 5100, "head set-point again")


def test_watchdog_fallback_command_overrides_and_zero_suspends(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, FULL)
    sim.charging_session()
    sim.command("fallback", [0, 1000])  # Modbus X306 = 0 A, X307 = 1 s
    sim.q("link", online=False)
    sim.until(lambda s: s["flags"] & d.FLAG_FALLBACK, 1100, "watchdog fallback")
    sim.until(lambda s: s["contactor"] == 0, 6000, "suspended at 0 A")
    assert status(sim.state()) == "SuspendedEVSE"


def test_a_load_managed_point_waits_at_its_fallback_current_for_the_first_set_point(
    micropython, mpy_procs, tmp_path
):
    # a head starting (or a module restarting) must not let every point of a load circuit take its maximum
    # before the load manager's first round: the fallback currents are what the circuit keeps room for
    cfg = dict(FULL, max_current_a=32, fallback_current_a=8, load_managed=True)
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    sim.charging_session()
    s = sim.state()
    assert s["set_current_ma"] == 8000 and s["flags"] & d.FLAG_AWAITING_SETPOINT
    sim.command("setpoint_ma", 20000)
    sim.until(lambda s: s["set_current_ma"] == 20000, 5100, "the manager's set-point")
    assert not sim.state()["flags"] & d.FLAG_AWAITING_SETPOINT
    sim.configure(dict(cfg, load_managed=False))  # out of its circuit: the manager's value no longer binds
    sim.until(lambda s: s["set_current_ma"] == 32000, 5100, "the point's maximum")
    assert not sim.state()["flags"] & d.FLAG_AWAITING_SETPOINT


def test_a_point_outside_load_circuits_charges_at_its_maximum_without_a_set_point(
    micropython, mpy_procs, tmp_path
):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, max_current_a=32, fallback_current_a=8))
    sim.charging_session()
    s = sim.state()
    assert s["set_current_ma"] == 32000 and not s["flags"] & d.FLAG_AWAITING_SETPOINT
