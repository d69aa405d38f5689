"""The charging-point configuration schema: the manual's fields, defaults, and every cross-field rule from
both sides of its edge (the head's store and the module validate with these same tables)."""

import chargedefs as d
import chargeschema
import pointconfig as pc
import pytest

MANUAL_FIELDS = (
    "name", "location", "connection_type", "standard", "socket_type", "locking_mode", "plug_rejection", "status_d",
    "min_current_a", "max_current_a", "fallback_current_a", "fallback_time_s", "meter_type", "phase_rotation",
    "screen_abbreviation", "cp_selection", "contactor_monitoring", "contactor_input", "rcm_enabled", "overcurrent",
    "out_of_balance", "temp_sensor", "derating_start_temp_c", "derating_stop_temp_c", "derating_start_current_a",
    "derating_stop_current_a", "ptc_trip_ohm", "release_mode", "rfid_reader", "rfid_reader_type", "rfid_timeout_s",
    "ocpp_connector_id", "hlc", "evse_id", "free_service", "payment", "outputs", "event_actions",
)  # fmt: skip


def valid(**changes):
    return chargeschema.validate(pc.FIELDS, changes, pc.CHECKS)


def refused(field, **changes):
    with pytest.raises(chargeschema.Invalid) as e:
        valid(**changes)
    assert any(field in k for k in e.value.errors), e.value.errors
    return e.value.errors


def test_every_manual_field_and_the_jupicore_defaults():
    names = [f.name for f in pc.FIELDS]
    assert sorted(names) == sorted(MANUAL_FIELDS)
    c = valid()
    assert (c["min_current_a"], c["max_current_a"], c["fallback_current_a"]) == (10, 16, 6)
    assert (c["derating_start_temp_c"], c["derating_start_current_a"]) == (40, 16)
    assert (c["derating_stop_temp_c"], c["derating_stop_current_a"]) == (60, 10)
    assert all(f.module for f in pc.FIELDS if f.name in ("max_current_a", "event_actions", "rcm_enabled"))
    assert not any(f.module for f in pc.FIELDS if f.name in ("name", "evse_id", "ocpp_connector_id"))
    assert d.RELEASE_MODES.index("modbus") == 5 and d.RELEASE_MODES.index("dashboard") == 0  # X120 codes


def test_current_rules_both_sides():
    valid(min_current_a=16, max_current_a=16)
    refused("min_current_a", min_current_a=17, max_current_a=16)
    valid(fallback_current_a=16, max_current_a=16)
    refused("fallback_current_a", fallback_current_a=17, max_current_a=16)
    valid(fallback_current_a=0)
    refused("max_current_a", max_current_a=81)
    refused("min_current_a", min_current_a=5)


def test_derating_rules_only_with_a_pt1000():
    valid(temp_sensor="pt1000", derating_start_temp_c=59, derating_stop_temp_c=60)
    refused("derating_start_temp_c", temp_sensor="pt1000", derating_start_temp_c=60, derating_stop_temp_c=60)
    refused(
        "derating_start_current_a",
        temp_sensor="pt1000",
        derating_start_current_a=10,
        derating_stop_current_a=10,
    )
    valid(temp_sensor="ptc", derating_start_temp_c=60, derating_stop_temp_c=60)


def test_event_actions_and_io_that_must_exist():
    entry = {"event": "di_rising", "event_input": 4, "action": "do_high", "action_output": 4}
    valid(event_actions=[entry])
    refused("event_input", event_actions=[dict(entry, event_input=5)])
    board = pc.checks_for((2, 2, 1))
    with pytest.raises(chargeschema.Invalid) as e:
        chargeschema.validate(pc.MODULE_FIELDS, {"event_actions": [dict(entry, event_input=2)]}, board)
    assert "event_actions[0].action_output" in e.value.errors
    with pytest.raises(chargeschema.Invalid) as e:
        chargeschema.validate(
            pc.MODULE_FIELDS, {"event_actions": [{"condition": "ai_over", "condition_input": 2}]}, board
        )
    assert "event_actions[0].condition_input" in e.value.errors
    with pytest.raises(chargeschema.Invalid):
        chargeschema.validate(pc.MODULE_FIELDS, {"contactor_monitoring": "no", "contactor_input": 3}, board)
    refused("event_actions", event_actions=[{}] * 33)
    refused("event_actions[0].action_value", event_actions=[{"action": "reduce_current", "action_value": 90}])
    refused("event_actions[0].event", event_actions=[{"event": "sometimes"}])


def test_module_part_and_checksum_are_stable():
    c = valid(max_current_a=32)
    part = pc.module_part(c)
    assert set(part) == {f.name for f in pc.MODULE_FIELDS}
    assert pc.checksum(c) == pc.checksum(part) == pc.checksum(dict(reversed(list(part.items()))))
    assert pc.checksum(valid(max_current_a=31)) != pc.checksum(c)
    assert pc.checksum(valid(name="other")) == pc.checksum(valid())  # head-only fields do not count
