"""The configuration keeps a load circuit's fallback currents within its fuse (refused with the reason)."""

from __future__ import annotations

from pathlib import Path

import chargeschema
import pytest
from chargepark.config.store import ConfigStore


@pytest.fixture
def store(tmp_path: Path) -> ConfigStore:
    return ConfigStore.open(tmp_path / "config.db")


def _refused(store: ConfigStore, area: str, data: dict[str, object], key: str) -> dict[str, str]:
    with pytest.raises(chargeschema.Invalid) as e:
        store.put(area, data, key=key)
    return dict(e.value.errors)


def test_fallback_currents_must_fit_the_fuse(store: ConfigStore) -> None:
    for uid in ("u1", "u2", "u3"):
        store.put("chargepoint", {"name": uid, "fallback_current_a": 10, "min_current_a": 6}, key=uid)
    members = [{"uid": u} for u in ("u1", "u2", "u3")]
    assert _refused(store, "loadcircuit", {"fuse_a": 25, "points": members}, "lc") == {
        "fuse_a": "the fallback currents of load circuit lc add up to 30 A, above its fuse of 25 A"
    }
    store.put("loadcircuit", {"fuse_a": 30, "points": members}, key="lc")
    # raising one point's fallback is refused on that point
    assert _refused(store, "chargepoint", {"name": "u1", "fallback_current_a": 11}, "u1") == {
        "fallback_current_a": "the fallback currents of load circuit lc add up to 31 A, above its fuse of 30 A"
    }
    # a fallback below the minimum suspends the point: it counts as 0 A
    store.put("chargepoint", {"name": "u1", "fallback_current_a": 5, "min_current_a": 6}, key="u1")
    store.put("loadcircuit", {"fuse_a": 20, "points": members}, key="lc")


def test_an_unconfigured_member_counts_with_the_default_fallback(store: ConfigStore) -> None:
    members = [{"uid": "new%d" % i} for i in range(6)]  # default fallback 6 A, minimum 10 A: suspends
    store.put("loadcircuit", {"fuse_a": 6, "points": members}, key="lc")


def test_a_phase_contactor_output_is_no_event_action_output(store: ConfigStore) -> None:
    driven = [{"event": "always", "action": "do_high", "action_output": 2}]
    store.put("chargepoint", {"name": "u1", "event_actions": driven}, key="u1")
    entry = {"uid": "u1", "phase_switch_output": 2}
    assert _refused(store, "loadcircuit", {"fuse_a": 32, "points": [entry]}, "lc") == {
        "points[0].phase_switch_output": "output 2 drives the phase contactor"
    }
    store.put("loadcircuit", {"fuse_a": 32, "points": [dict(entry, phase_switch_output=3)]}, key="lc")
    # an Event Action on the phase output, written later, is refused on the point
    assert _refused(store, "chargepoint", {"name": "u1", "event_actions": [dict(driven[0], action_output=3)]},
                    "u1") == {"event_actions[0].action_output": "output 3 drives the phase contactor"}  # fmt: skip


def test_surplus_charging_needs_the_higher_level_meter(store: ConfigStore) -> None:
    entry = {"uid": "u1", "surplus": True}
    assert _refused(store, "loadcircuit", {"fuse_a": 32, "points": [entry]}, "lc") == {
        "points[0].surplus": "surplus charging needs the higher-level measuring device"
    }
    store.put("loadcircuit", {"fuse_a": 32, "meter_connection": "tcp", "meter_ip": "192.0.2.7",
                              "points": [entry]}, key="lc")  # fmt: skip


def test_an_rs485_higher_level_meter_needs_the_points_meter(store: ConfigStore) -> None:
    """Manual "RS-485 connection": the meter is of the type of the point's own meter, one a line."""
    rs485 = {"fuse_a": 32, "meter_connection": "rs485", "rs485_point": "u1"}
    refused = _refused(store, "loadcircuit", rs485, "lc1")
    assert refused["rs485_point"].startswith("u1 needs an energy meter type")
    store.put("chargepoint", {"name": "P1", "meter_type": "none"}, key="u1")
    assert "rs485_point" in _refused(store, "loadcircuit", rs485, "lc1")
    store.put("chargepoint", {"name": "P1", "meter_type": "em340"}, key="u1")
    store.put("loadcircuit", rs485, key="lc1")
    assert _refused(store, "chargepoint", {"name": "P1", "meter_type": "none"}, "u1") == {
        "meter_type": "needs an energy meter type: the higher-level meter on its RS-485 line is of the same type "
        "of load circuit lc1"
    }
    assert _refused(store, "loadcircuit", rs485, "lc2") == {
        "rs485_point": "u1 already carries the higher-level meter of load circuit lc1"
    }
