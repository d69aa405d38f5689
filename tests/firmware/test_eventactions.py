"""The manual's Event Action example tables (chargepark.ea_examples, which the WBM loads as presets) as
test cases, plus the Action Timer semantics (real micropython binary, simulated time). Outputs are read as
the plant sees the pins."""

import chargedefs as d
from chargepark.ea_examples import EMERGENCY_STOP, EXTERNAL, LED
from chargepark.ea_examples import entry as ea
from simpoint import FULL, SimPoint, iec, status


def out_mode(s, number):
    return d.OUTPUT_MODES[(s["outputs"] >> (4 * (number - 1))) & 0xF]


def high_share(sim, output, ms=2000):
    """Share of ticks output `output` (1-based) is high over `ms`, in per mille."""
    high = 0
    for _ in range(ms // 10):
        high += sim.plant()["outputs"][output - 1] == 1
        sim.step(10)
    return high * 1000 // (ms // 10)


def test_external_specifications_table(micropython, mpy_procs, tmp_path):
    sim = SimPoint(
        micropython, mpy_procs, tmp_path, dict(FULL, release_mode="remote", event_actions=EXTERNAL)
    )
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.step(1500)
    assert iec(sim.state()) == "B1"  # no release yet
    sim.q("set", di=[1, 0, 0, 0])
    sim.until(lambda s: s["contactor"] == 1, 3000, "released by the button")
    sim.q("set", di=[0, 0, 0, 1])
    sim.step(20)
    s = sim.state()
    assert s["set_current_ma"] == 16000 and s["flags"] & d.FLAG_REDUCED_EXT
    sim.q("set", di=[0, 1, 0, 1])
    assert sim.until(lambda s: s["contactor"] == 0, 100, "shutdown by input") <= 100
    assert status(sim.state()) == "Unavailable"
    sim.q("set", di=[0, 0, 0, 0])
    took = sim.until(lambda s: status(s) != "Unavailable", 1200, "available again")
    assert 980 <= took <= 1020  # the 1000 ms Action Timer runs from the moment the condition ended
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging again (release still set: timer 0)")


LOW_OUTPUTS = [{"mode": "low", "duty": 50}] * 3


def test_led_tables(micropython, mpy_procs, tmp_path):
    cfg = dict(FULL, release_mode="dashboard", outputs=LOW_OUTPUTS, event_actions=LED)
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    sim.step(20)
    s = sim.state()
    assert [out_mode(s, n) for n in (1, 2, 3)] == ["low", "high", "low"]  # Available: green
    sim.command("reserved", True)
    sim.step(20)
    assert [out_mode(sim.state(), n) for n in (1, 2, 3)] == ["high", "high", "low"]  # Reserved: yellow
    sim.command("reserved", False)
    # RFID denied: red flashes for 3 s, then ends by itself
    sim.command("rfid", ["04A1B2C3", False])
    sim.step(20)
    s = sim.state()
    assert out_mode(s, 1) == "flash_high" and s["flags"] & d.FLAG_LAST_RFID_INVALID
    assert 450 <= high_share(sim, 1) <= 550
    sim.step(1000)
    assert out_mode(sim.state(), 1) == "low"
    # no release: yellow flashing (SuspendedEVSE)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.step(1000)
    s = sim.state()
    assert status(s) == "SuspendedEVSE" and out_mode(s, 1) == out_mode(s, 2) == "flash_high"
    # charging: blue flashes 50 %
    sim.command("release", True)
    sim.until(lambda s: status(s) == "Charging", 3000, "charging")
    sim.step(20)
    assert [out_mode(sim.state(), n) for n in (1, 2, 3)] == ["low", "low", "flash_high"]
    assert 450 <= high_share(sim, 3) <= 550
    # vehicle paused: blue flashes slowly (80 %)
    sim.q("pause")
    sim.until(lambda s: status(s) == "SuspendedEV", 1000, "paused")
    assert 750 <= high_share(sim, 3) <= 850
    # vehicle error (external): red flashes
    sim.fault("diode", True)
    sim.q("unplug")
    sim.step(300)
    sim.q("plug", cable_a=32)
    sim.command("release", True)  # the diode check runs once the PWM is on
    sim.until(lambda s: s["error_bits"] & d.ERR_DIODE, 3000, "vehicle error")
    sim.step(20)
    assert out_mode(sim.state(), 1) == "flash_high"


def test_emergency_stop_on_digital_input_4(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, event_actions=EMERGENCY_STOP))
    sim.charging_session()
    sim.events()
    sim.q("set", di=[0, 0, 0, 1])
    assert sim.until(lambda s: s["contactor"] == 0, 100, "emergency stop") <= 100
    s = sim.state()
    assert status(s) == "Unavailable" and iec(s) == "F" and s["available"] == 0
    assert ["ea_message", "EmergencyStop"] in sim.events()
    sim.step(3000)
    assert sim.state()["contactor"] == 0  # "Permanent": stays until the other Event Action
    sim.q("set", di=[0, 0, 0, 0])
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging continues after reset of the switch")


def test_action_timer_semantics(micropython, mpy_procs, tmp_path):
    rules = [
        ea("plug_connected", "do_high", timer_ms=0, action_output=4),  # until another Event Action
        ea("plug_connected", "do_high", timer_ms=500, action_output=2),  # a 500 ms action
        ea("plug_disconnected", "do_low", timer_ms=0, action_output=4),
        ea("never", "do_high", action_output=1),
        ea("always", "do_high", "never", action_output=1),
    ]
    outs = [{"mode": "low", "duty": 50}] * 4
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, outputs=outs, event_actions=rules))
    sim.q("plug", cable_a=32, ev=False)  # the cable only: plug connected, no vehicle
    sim.step(20)
    s = sim.state()
    assert out_mode(s, 4) == "high" and out_mode(s, 2) == "high" and out_mode(s, 1) == "low"
    sim.step(500)
    s = sim.state()
    assert out_mode(s, 2) == "low" and out_mode(s, 4) == "high"  # the event fired once, was not reset
    sim.q("unplug")
    sim.step(20)
    assert out_mode(sim.state(), 4) == "low"


def test_later_rules_overwrite_earlier_ones_and_bus_outputs(micropython, mpy_procs, tmp_path):
    rules = [
        ea("always", "do_high", action_output=1),
        ea("always", "do_floating", action_output=1),
        ea("always", "do_bus", action_output=2),
    ]
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, event_actions=rules))
    sim.command("output", [2, "flash_low", 25])
    sim.command("output", [3, "pulse_low", 0])
    sim.step(20)
    s = sim.state()
    assert out_mode(s, 1) == "floating" and sim.plant()["outputs"][0] == 2
    assert out_mode(s, 2) == "flash_low" and out_mode(s, 3) == "pulse_low"
    assert 700 <= high_share(sim, 2) <= 800  # low for 25 % of the 2 s period
    share = high_share(sim, 3)
    assert 300 <= share <= 700  # pulsating: the low share ramps 0..100..0 % over 2 s
    reply = sim.request("point", name="output", value=[5, "high", 0])
    assert not reply["ok"]


def test_teach_and_rfid_events_and_conditions(micropython, mpy_procs, tmp_path):
    rules = [
        ea("teach_in_ok", "do_high", timer_ms=1000, action_output=1),
        ea("teach_in_failed", "do_flash_low", timer_ms=1000, action_output=2, action_value=50),
        ea("always", "do_high", "last_rfid_invalid", action_output=3),
        ea("always", "do_high", "backend_online_available", action_output=4),
    ]
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, outputs=LOW_OUTPUTS, event_actions=rules))
    sim.command("teach", "in_ok")
    sim.command("rfid", ["1234", False])
    sim.command("backend", True)
    sim.step(20)
    s = sim.state()
    assert [out_mode(s, n) for n in (1, 2, 3, 4)] == ["high", "low", "high", "high"]
    sim.command("teach", "in_failed")
    sim.command("rfid", ["1234", True])
    sim.command("backend", False)
    sim.step(20)
    s = sim.state()
    assert [out_mode(s, n) for n in (2, 3, 4)] == ["flash_low", "low", "low"]
    sim.step(1000)
    assert [out_mode(sim.state(), n) for n in (1, 2)] == ["low", "low"]
    assert not sim.request("point", name="teach", value="sideways")["ok"]


def test_lock_actions_and_analog_condition_through_the_board(micropython, mpy_procs, tmp_path):
    rules = [
        ea("di_rising", "lock", timer_ms=0, event_input=1),
        ea("di_falling", "unlock", timer_ms=0, event_input=1),
        ea("always", "do_high", "ai_over", condition_input=2, condition_value=7500, action_output=1),
    ]
    cfg = dict(FULL, locking_mode="remote", outputs=LOW_OUTPUTS, event_actions=rules)
    sim = SimPoint(micropython, mpy_procs, tmp_path, cfg)
    sim.q("set", di=[1, 0, 0, 0])
    sim.until(lambda s: s["lock_state"] == d.LOCK_LOCKED, 1000, "locked by an Event Action")
    sim.q("set", di=[0, 0, 0, 0])
    sim.until(lambda s: s["lock_state"] == d.LOCK_UNLOCKED, 1000, "unlocked by an Event Action")
    sim.q("set", ai_mv=[0, 8000])
    sim.step(20)
    s = sim.state()
    assert abs(s["ai2_mv"] - 8000) <= 10 and out_mode(s, 1) == "high"  # 8 V through the divider and ADC
    sim.q("set", ai_mv=[0, 7000])
    sim.step(20)
    assert out_mode(sim.state(), 1) == "low"
