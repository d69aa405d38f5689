"""The four error bits that are not a protection of the core: configuration error, conflicting Event Actions,
vehicle error (status F) and power supply error (real micropython binary, simulated time, sim-control)."""

import chargedefs as d
from simpoint import FULL, SimPoint, iec, status

F_HOLD_MS = 300


def ea(event, action, condition="active", timer_ms=10, **extra):
    rule = {"event": event, "action": action, "condition": condition, "timer_ms": timer_ms}
    rule.update(extra)
    return rule


# Output 2 shows "Error Internal", output 4 "Error External" (each ends with its condition).
KIND_RULES = [
    ea("always", "do_high", "error_internal", action_output=2),
    ea("always", "do_high", "error_external", action_output=4),
]


def kind_outputs(sim):
    """(internal, external) as the plant sees output 2 and 4."""
    outs = sim.plant()["outputs"]
    return outs[1] == 1, outs[3] == 1


def test_config_error_while_unconfigured_cleared_by_a_good_configuration(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path)
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.step(1000)
    s = sim.state()
    assert s["error_bits"] == d.ERR_CONFIG, s
    assert status(s) == "Unavailable" and iec(s) == "B1"  # +12 V, no PWM, not held in F
    assert s["release"] == 0 and s["set_current_ma"] == 0 and s["contactor"] == 0
    # a refused configuration with no last good one: still without a configuration
    bad = sim.request("configure", config=dict(FULL, max_current_a=5, min_current_a=6))
    assert not bad["ok"]
    sim.step(1000)
    s = sim.state()
    assert s["error_bits"] & d.ERR_CONFIG and s["config_version"] == 0 and s["duty_permille"] == 1000
    assert s["release"] == 0
    # a valid one clears it and the point charges
    sim.configure(FULL)
    sim.step(10)
    assert not sim.state()["error_bits"] & d.ERR_CONFIG
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging once configured")
    events = sim.events()
    assert ["error_new", d.ERR_CONFIG] in events and ["error_resolved", d.ERR_CONFIG] in events
    # a refused configuration now keeps the last good one: no configuration error, charging goes on
    assert not sim.request("configure", config=dict(FULL, max_current_a=5, min_current_a=6))["ok"]
    sim.holds(
        lambda s: s["contactor"] == 1 and s["error_bits"] == 0 and s["config_version"] == 1, 500, "last good"
    )


def test_conflicting_outputs_last_wins_and_bit_clears_after_a_quiet_second(micropython, mpy_procs, tmp_path):
    rules = [
        ea("always", "do_high", action_output=1),
        ea("always", "do_low", "di_high", condition_input=1, action_output=1),
        # the same value twice: no conflict
        ea("always", "do_high", "di_high", condition_input=1, action_output=2),
        ea("always", "do_high", "di_high", condition_input=1, action_output=2),
    ]
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, event_actions=rules))
    sim.step(100)
    assert not sim.state()["error_bits"] & d.ERR_EVENT_ACTIONS
    assert sim.plant()["outputs"][0] == 1
    sim.q("set", di=[1, 0, 0, 0])
    sim.step(20)
    s = sim.state()
    assert s["error_bits"] == d.ERR_EVENT_ACTIONS and status(s) == "Available"  # info: not a fault
    assert sim.plant()["outputs"][:2] == [0, 1]  # the later rule wins
    sim.holds(lambda s: s["error_bits"] & d.ERR_EVENT_ACTIONS, 500, "conflict while both fire")
    sim.q("set", di=[0, 0, 0, 0])
    took = sim.until(lambda s: not s["error_bits"] & d.ERR_EVENT_ACTIONS, 1100, "conflict cleared")
    assert 990 <= took <= 1010
    assert sim.plant()["outputs"][0] == 1


def test_enable_and_disable_charging_on_one_event_is_a_conflict_that_does_not_stop_charging(
    micropython, mpy_procs, tmp_path
):
    rules = [
        ea("plug_connected", "enable_charging", timer_ms=0, switch="disable"),
        ea("plug_connected", "enable_charging", timer_ms=0, switch="enable"),
    ]
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, release_mode="remote", event_actions=rules))
    sim.q("plug", cable_a=32)
    sim.q("charge")
    sim.until(lambda s: s["error_bits"] & d.ERR_EVENT_ACTIONS, 30, "conflict reported")
    sim.until(lambda s: s["contactor"] == 1, 3000, "released: the later Enable wins")
    assert sim.state()["error_bits"] & d.ERR_EVENT_ACTIONS  # still within the hold after one cycle
    sim.until(lambda s: not s["error_bits"] & d.ERR_EVENT_ACTIONS, 1000, "one-cycle conflict cleared")
    assert sim.state()["contactor"] == 1


def test_vehicle_pulling_the_pilot_to_f_is_a_vehicle_error(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, event_actions=KIND_RULES))
    sim.charging_session()
    assert kind_outputs(sim) == (False, False)
    sim.fault("vehicle_f", True)
    took = sim.until(lambda s: s["contactor"] == 0, 100, "open after the vehicle error")
    assert took <= 100
    s = sim.state()
    assert s["error_bits"] == d.ERR_VEHICLE and status(s) == "Faulted" and iec(s) == "F", s
    sim.step(20)
    assert kind_outputs(sim) == (False, True)  # external (vehicle side)
    # through our own F hold and after it, while the vehicle still holds F
    sim.holds(lambda s: s["error_bits"] == d.ERR_VEHICLE and s["contactor"] == 0, 1000, "vehicle error")
    sim.fault("vehicle_f", False)
    sim.until(lambda s: s["error_bits"] == 0, 100, "vehicle error resolved")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging again")


def test_the_evse_holding_f_is_no_vehicle_error(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, FULL)
    sim.charging_session()
    sim.command("enable", False)
    sim.step(20)
    sim.holds(lambda s: iec(s) == "F" and s["error_bits"] == 0, 1000, "disabled: F without an error")
    sim.command("enable", True)
    sim.command("available", False)
    sim.step(20)
    sim.holds(lambda s: iec(s) == "F" and s["error_bits"] == 0, 1000, "unavailable: F without an error")
    sim.command("available", True)
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging again")
    # an EVSE fault's F hold is not a vehicle error either
    sim.fault("pilot_short", True)
    sim.until(lambda s: iec(s) == "F", 100, "F after the CP fault")
    sim.fault("pilot_short", False)
    sim.holds(lambda s: not s["error_bits"] & d.ERR_VEHICLE, F_HOLD_MS + 200, "no vehicle error")


def test_supply_under_voltage_stops_charging_within_100_ms(micropython, mpy_procs, tmp_path):
    sim = SimPoint(micropython, mpy_procs, tmp_path, dict(FULL, event_actions=KIND_RULES))
    sim.charging_session()
    sim.fault("supply", True)
    took = sim.until(lambda s: s["contactor"] == 0, 100, "open after supply under-voltage")
    assert took <= 100
    s = sim.state()
    assert s["error_bits"] == d.ERR_POWER_SUPPLY and status(s) == "Faulted", s
    sim.holds(lambda s: iec(s) == "F", F_HOLD_MS - took - 10, "state F hold")
    assert kind_outputs(sim) == (True, False)  # internal
    sim.holds(
        lambda s: s["contactor"] == 0 and s["duty_permille"] in (0, 1000), 1000, "no PWM while it lasts"
    )
    sim.fault("supply", False)
    sim.until(lambda s: s["error_bits"] == 0, 20, "supply error resolved")
    sim.until(lambda s: s["contactor"] == 1, 3000, "charging again")


def test_supply_threshold_is_board_data_and_the_generator_plateau_is_watched(
    micropython, mpy_procs, tmp_path
):
    sim = SimPoint(micropython, mpy_procs, tmp_path, FULL)
    sim.q("set", supply_mv=11450)  # board.json supply.min_mv = 11400
    sim.step(20)
    assert sim.state()["error_bits"] == 0
    sim.q("set", supply_mv=11350)
    sim.step(20)
    assert sim.state()["error_bits"] == d.ERR_POWER_SUPPLY
    sim.q("set", supply_mv=12000)
    sim.step(20)
    assert sim.state()["error_bits"] == 0
    # the monitor reads fine, but the unloaded +12 V plateau in state A is 8 % low (still state A)
    sim.q("set", gen_mv=11050)
    sim.until(lambda s: s["error_bits"] == d.ERR_POWER_SUPPLY, F_HOLD_MS + 100, "plateau out of +-5 %")
    sim.q("set", gen_mv=12000)
    sim.until(lambda s: s["error_bits"] == 0, F_HOLD_MS + 100, "plateau back in tolerance")


ALLOC_SCRIPT = """
import gc, json
from simboard.runner import SimBoard
sb = SimBoard(json.load(open(%r)), True)
sb.point.configure(%s)
sb.plant.plug(32)
sb.plant.wants_charge = True
sb.plant.di[0] = 1
t = 0
for i in range(300):
    t += 10
    sb.tick(t)
p = sb.point
assert p.snapshot()["status"] == 2 and p.ea.conflict, p.snapshot()
sb.plant.faults["vehicle_f"] = True
for i in range(100):  # the error's events (queue records) are made here, not in the steady state below
    t += 10
    sb.tick(t)
allocated = before = 0  # bound before counting: a new global grows the module's dict
gc.collect()
gc.disable()
for i in range(500):
    t += 10
    sb.plant.advance(t)
    sb.reader.service(p.cfg["rfid_reader_type"], t)  # the simulated card reader answers (not measured)
    before = gc.mem_alloc()
    p.tick(t)
    allocated += gc.mem_alloc() - before
print(allocated, p.error_bits)
"""


def test_steady_ticks_with_a_conflict_and_a_vehicle_error_allocate_nothing(micropython):
    import json

    from simpoint import ROOT

    rules = [
        ea("always", "do_flash_high", action_output=1, action_value=50),
        ea("always", "do_flash_high", "di_high", condition_input=1, action_output=1, action_value=20),
        ea("always", "reduce_current", "error_external", action_value=10),
    ]
    cfg = json.dumps(dict(FULL, event_actions=rules)).replace("true", "True")
    out = micropython.run(ALLOC_SCRIPT % (str(ROOT / "boards" / "sim" / "board.json"), cfg)).split()
    assert out == ["0", str(d.ERR_EVENT_ACTIONS | d.ERR_VEHICLE)]
