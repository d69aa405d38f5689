"""Charging sessions on the simulated board (real micropython binary, simulated time): the state machine,
statuses and the IEC 61851-1 timing table (B->C close <= 3 s, C->B / unplug open <= 100 ms, unlock <= 5 s,
PWM stop in C -> open after <= 6 s, one duty raise per 5 s)."""

import json

import chargedefs as d
import pytest
from simpoint import FULL, SimPoint, iec, status


@pytest.fixture
def sim(micropython, mpy_procs, tmp_path):
    return SimPoint(micropython, mpy_procs, tmp_path, FULL)


def test_unconfigured_point_is_unavailable_and_never_charges(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.step(3000)
    s = sim.state()
    assert status(s) == "Unavailable" and s["contactor"] == 0 and s["set_current_ma"] == 0
    assert not s["flags"] & d.FLAG_CONFIGURED


def test_plug_charge_pause_unplug(sim):
    s = sim.state()
    assert status(s) == "Available" and iec(s) == "A1"
    sim.q("plug", cable_a=32)
    # lock, RCM self-test, then PWM: Preparing in B2 with the cable's 32 A
    sim.until(lambda s: iec(s) == "B2" and s["lock_state"] == d.LOCK_LOCKED, 1500, "B2, locked")
    s = sim.state()
    assert status(s) == "Preparing"
    assert s["set_current_ma"] == 32000 and s["duty_permille"] == 533 and s["cable_ma"] == 32000
    sim.q("charge")
    took = sim.until(lambda s: s["contactor"] == 1, 3000, "contactor closed after B->C")
    assert took <= 3000
    s = sim.state()
    assert iec(s) == "C2" and status(s) == "Charging"
    sim.step(2000)
    s = sim.state()
    assert s["i1_ma"] > 30000 and s["power_mw"] > 20000000 and s["u1_mv"] == 230000
    # the vehicle pauses: C->B opens within 100 ms, SuspendedEV
    sim.q("pause")
    took = sim.until(lambda s: s["contactor"] == 0, 100, "open after C->B")
    assert took <= 100
    assert status(sim.state()) == "SuspendedEV"
    sim.q("resume")
    sim.until(lambda s: s["contactor"] == 1, 3000, "closed again")
    # unplug under load: open within 100 ms, unlock within 5 s, Available
    sim.q("unplug")
    assert sim.until(lambda s: s["contactor"] == 0, 100, "open after unplug") <= 100
    assert sim.until(lambda s: s["lock_state"] == d.LOCK_UNLOCKED, 5000, "unlocked") <= 5000
    s = sim.state()
    assert status(s) == "Available" and iec(s) == "A1"
    kinds = [e[0] for e in sim.events()]
    assert kinds.count("session_start") == 1 and kinds.count("session_stop") == 1


def test_release_modes_and_finishing(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, release_mode="dashboard"))
    sim.q("plug", cable_a=20)
    sim.q("charge")
    sim.step(2000)
    s = sim.state()
    # without a release the vehicle stays in B1: SuspendedEVSE (manual: "Vehicle rejected" LED example)
    assert iec(s) == "B1" and status(s) == "SuspendedEVSE" and s["release"] == 0
    sim.command("release", True)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging after release")
    assert sim.state()["set_current_ma"] == 20000  # 20 A cable
    sim.command("release", False)
    # PWM stops; the vehicle opens S2 (1 s), the contactor opens in B, status Finishing
    sim.until(lambda s: s["contactor"] == 0, 6000, "open after release withdrawn")
    s = sim.state()
    assert status(s) == "Finishing" and iec(s) == "B1"
    sim.q("unplug")
    sim.step(100)
    # the dashboard release ended with the session
    assert sim.state()["release"] == 0


def test_a_release_after_one_taken_back_is_a_new_one_in_the_same_session(micropython, mpy_procs, tmp_path):
    """The head takes the release back (a remote or local stop) and releases the still plugged-in vehicle
    again (a new remote start): the session reports session_release once more, with the meter then, so
    the head starts a new transaction instead of the vehicle charging on none."""
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, release_mode="remote"))
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.command("release", True)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging after the release")
    sim.step(2000)
    sim.command("release", False)
    sim.until(lambda s: s["contactor"] == 0, 6000, "open after the release was taken back")
    sim.step(1000)
    sim.command("release", True)
    sim.until(lambda s: s["contactor"] == 1, 6000, "charging after the second release")
    sim.q("unplug")
    sim.step(200)
    events = [e for e in sim.events() if e[0] in ("session_start", "session_release", "session_stop")]
    assert [e[0] for e in events] == ["session_start", "session_release", "session_release", "session_stop"]
    session = events[0][1][0]
    assert all(e[1][0] == session for e in events)  # one plug-in, one session
    first, second = events[1][1][1], events[2][1][1]
    assert second > first  # the second release's meter reading: the energy charged under the first


def test_pwm_stop_in_c_opens_after_6_s_at_the_latest(sim):
    sim.q("ev", stubborn=True)  # a vehicle that ignores the PWM stop
    sim.charging_session()
    sim.command("setpoint_ma", 0)  # head withdraws the current: PWM stops at once
    sim.step(10)
    assert sim.state()["duty_permille"] == 1000
    took = sim.until(lambda s: s["contactor"] == 0, 6100, "forced open")
    assert 5900 <= took <= 6000
    assert status(sim.state()) == "SuspendedEVSE"


def test_duty_raise_at_most_every_5_s_lowering_at_once(sim):
    sim.charging_session()
    sim.command("setpoint_ma", 10000)
    sim.step(10)
    assert sim.state()["set_current_ma"] == 10000  # lowering: immediate
    sim.command("setpoint_ma", 20000)
    took = sim.until(lambda s: s["set_current_ma"] == 20000, 6000, "raise")
    assert 4900 <= took <= 5000
    assert sim.state()["flags"] & d.FLAG_REDUCED_EXT


def test_below_minimum_suspends_instead_of_signalling_less_than_6_a(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, min_current_a=10))
    sim.charging_session()
    sim.command("setpoint_ma", 8000)
    sim.until(lambda s: s["contactor"] == 0, 6000, "suspended")
    s = sim.state()
    assert status(s) == "SuspendedEVSE" and s["set_current_ma"] == 0 and s["duty_permille"] == 1000


def test_disable_aborts_session_with_f_and_enable_returns(sim):
    sim.charging_session()
    sim.command("enable", False)
    assert sim.until(lambda s: s["contactor"] == 0, 100, "open") <= 100
    s = sim.state()
    assert iec(s) == "F" and status(s) == "Faulted" and s["error_bits"] == 0
    sim.command("enable", True)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging again")


def test_unavailable_via_external_release(sim):
    sim.command("available", False)
    sim.step(50)
    s = sim.state()
    assert status(s) == "Unavailable" and iec(s) == "F"
    sim.command("available", True)
    sim.step(50)
    assert status(sim.state()) == "Available"


def test_fixed_connector_has_no_pp_and_no_lock(micropython, mpy_procs, tmp_path):
    sim = SimPoint(
        micropython, mpy_procs, tmp_path, dict(FULL, connection_type="connector", max_current_a=16)
    )
    sim.charging_session()
    s = sim.state()
    assert s["cable_ma"] == 0 and s["set_current_ma"] == 16000 and status(s) == "Charging"
    assert sim.plant()["lock_pos"] == 0


def test_ventilation_state_d_rejected_or_accepted(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, FULL)
    sim.q("ev", ventilation=True)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: s["error_bits"] & d.ERR_STATUS_D, 3000, "status D refused")
    assert sim.state()["contactor"] == 0 and status(sim.state()) == "Faulted"
    sim.configure(dict(FULL, status_d="accept"))
    sim.q("unplug")
    sim.step(500)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: s["contactor"] == 1, 3000, "D accepted")
    s = sim.state()
    assert iec(s) == "D2" and status(s) == "Charging" and s["flags"] & d.FLAG_VENTILATION


def test_plug_rejection(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, plug_rejection="reject_20a_13a"))
    sim.q("plug", cable_a=20)
    sim.q("charge")
    sim.step(2000)
    s = sim.state()
    assert s["error_bits"] & d.ERR_REJECT_20A_13A and s["contactor"] == 0 and status(s) == "Faulted"
    sim.q("unplug")
    sim.step(500)
    sim.charging_session(cable_a=32)
    sim.configure(dict(FULL, plug_rejection="reject_13a"))
    sim.q("unplug")
    sim.step(500)
    sim.q("plug", cable_a=13)
    sim.step(1000)
    assert sim.state()["error_bits"] & d.ERR_REJECT_13A


def test_bad_configuration_is_refused_and_the_last_good_one_kept(sim):
    before = sim.state()
    for bad, field in (
        (dict(FULL, min_current_a=20, max_current_a=16), "min_current_a"),
        (dict(FULL, derating_start_temp_c=60, derating_stop_temp_c=60), "derating_start_temp_c"),
        (
            dict(FULL, event_actions=[{"event": "always", "action": "do_high", "action_output": 5}]),
            "action_output",
        ),
        (dict(FULL, max_current_a=81), "max_current_a"),
        (dict(FULL, nonsense=1), "nonsense"),
    ):
        reply = sim.request("configure", config=bad)
        assert not reply["ok"] and any(field in k for k in reply["errors"]), reply
    after = sim.state()
    assert after["config_version"] == before["config_version"]
    assert after["config_checksum"] == before["config_checksum"]
    assert "config_refused" in [e[0] for e in sim.events()]
    reply = sim.request("point", name="setpoint_ma", value=-1)
    assert not reply["ok"] and "setpoint_ma" in reply["error"]
    reply = sim.request("point", name="warp", value=1)
    assert not reply["ok"] and "unknown command" in reply["error"]


def test_full_battery_pauses_the_vehicle(sim):
    sim.q("ev", battery_wh=50000, soc_wh=49990, reaction_ms=0)
    sim.charging_session()
    # 3 x 32 A x 230 V = 22 kW: 10 Wh take ~1.6 s, then the vehicle opens S2
    sim.until(lambda s: status(s) == "SuspendedEV", 3000, "vehicle full")
    s = sim.state()
    assert s["contactor"] == 0 and iec(s) == "B2" and s["session_wh"] >= 9
    assert sim.plant()["soc_wh"] >= 50000


def test_rfid_release_waits_for_a_vehicle_then_times_out(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, release_mode="whitelist", rfid_timeout_s=5))
    sim.q("rfid", tag="04A1B2C3")  # a card at the simulated reader ...
    sim.step(300)  # ... read by the driver's next poll
    assert ["rfid_read", "04A1B2C3"] in sim.events()  # the head checks the whitelist ...
    sim.command("rfid", ["04A1B2C3", True])  # ... and answers
    sim.step(20)
    s = sim.state()
    assert s["release"] == 1 and not s["flags"] & d.FLAG_AUTH_ONGOING  # decided: no longer asking
    took = sim.until(lambda s: s["release"] == 0, 6000, "RFID release discarded")
    assert 4900 <= took <= 5000
    sim.command("rfid", ["04A1B2C3", True])
    sim.charging_session()  # a vehicle in time: the release holds


def test_real_time_mode_charges_on_the_wall_clock(micropython, mpy_procs, tmp_path):
    import shutil
    import socket
    import time

    from simpoint import MAIN, ROOT

    flash = tmp_path / "rt"
    flash.mkdir()
    shutil.copyfile(ROOT / "boards" / "sim" / "board.json", flash / "board.json")
    proc = micropython.spawn([str(MAIN), "--sim-control", "0"], cwd=flash)
    mpy_procs.append(proc)
    port = int(proc.stdout.readline().split(b":")[1])
    assert int((flash / "simcontrol.port").read_text()) == port

    def q(cmd, **kw):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall((json.dumps(dict(kw, cmd=cmd)) + "\n").encode())
            return json.loads(s.makefile().readline())

    assert q("configure", config=FULL)["ok"]
    assert not q("step", ms=10)["ok"]  # stepping is for simulated time only
    q("plug", cable_a=32)
    q("charge")
    t0 = time.monotonic()
    while q("state")["point"]["contactor"] != 1:
        assert time.monotonic() - t0 < 5, q("state")
        time.sleep(0.05)
    state = q("state")
    assert state["point"]["status_name"] == "Charging" and state["now_ms"] > 500


def test_garbage_on_the_sim_control_channel_is_answered_never_fatal(sim):
    for line in ("not json", "[1, 2]", '{"cmd": "warp"}', '{"cmd": "plug", "cable_a": 7}', '{"cmd": "fault"}',
                 '{"cmd": "fault", "name": "gremlin"}', '{"cmd": "step", "ms": -5}', '{"cmd": "set", "di": [1,1,1,1,1]}'):  # fmt: skip
        sim.file.write(line + "\n")
        sim.file.flush()
        reply = json.loads(sim.file.readline())
        assert reply["ok"] is False and reply["error"], (line, reply)
    sim.charging_session()  # still running and charging


def test_disabled_point_releases_the_socket_and_sees_the_cable_leave(sim):
    sim.charging_session()
    sim.command("enable", False)
    sim.until(lambda s: s["lock_state"] == d.LOCK_UNLOCKED, 7000, "unlocked while disabled")
    sim.q("unplug")
    sim.step(50)
    kinds = [e[0] for e in sim.events()]
    assert "session_stop" in kinds
    sim.command("enable", True)
    sim.step(50)
    s = sim.state()
    assert status(s) == "Available" and iec(s) == "A1"
