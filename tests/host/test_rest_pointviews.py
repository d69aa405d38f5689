"""JupiCore REST's views beside /config (datahub/pointviews.py): event-action-config and function-config
(chargepoint fields, validated whole, confirmed by the module's checksum), hmi-config (the CHARX RFID/NFC
board) and hmi-data, coupled-clients, and the energy object's energy_meter_info."""

from __future__ import annotations

import time
from typing import Any

import pytest
from chargepark.datahub import pointviews
from iomodule.rfid import board

from tests.host.test_rest_jupicore import one, park, sample  # noqa: F401 (park: the fixture)

RULE = {"event": "ev_connected", "condition": "active", "action": "do_high", "action_output": 2}


def test_event_actions_are_read_and_written_whole_and_confirmed(park: Any) -> None:  # noqa: F811
    _hub, store, _agent = park
    assert one(park, "GET", "/charging-controllers/CP1/event-action-config").json() == {"event_actions": []}
    r = one(park, "PUT", "/charging-controllers/CP1/event-action-config", {"event_actions": [RULE, RULE]})
    assert r.status_code == 200, r.text
    assert [ea["action_output"] for ea in r.json()["event_actions"]] == [2, 2]
    assert r.json()["event_actions"][0]["timer_ms"] == 0  # the rest of each rule: its defaults
    saved = store.get("chargepoint", "CP1")
    assert len(saved["event_actions"]) == 2 and saved["name"] == "Remote"  # the rest of the record kept
    # the list is replaced whole, not merged
    r = one(park, "PUT", "/charging-controllers/CP1/event-action-config", {"event_actions": [RULE]})
    assert len(r.json()["event_actions"]) == 1 and len(store.get("chargepoint", "CP1")["event_actions"]) == 1
    assert (
        one(park, "GET", "/charging-points/CP1/config").json()["event_actions"] == r.json()["event_actions"]
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [({"event_actions": [dict(RULE, action_output=5)]}, "event_actions[0].action_output"),
     ({"event_actions": [dict(RULE, action="fly")]}, "event_actions[0].action"),
     ({"event_actions": [RULE] * 33}, "event_actions"), ({"event_actions": {}}, "event_actions"),
     ({"event_actions": [dict(RULE, colour=1)]}, "event_actions[0].colour"),
     ({"charging_point_name": "x"}, "charging_point_name"), ({"name": "x"}, "name")],
)  # fmt: skip
def test_bad_event_actions_are_refused_whole(park: Any, body: Any, field: str) -> None:  # noqa: F811
    _hub, store, _agent = park
    before = store.get("chargepoint", "CP1")
    r = one(park, "PUT", "/charging-controllers/CP1/event-action-config", body)
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert store.get("chargepoint", "CP1") == before


def test_function_config_is_the_monitoring_and_outputs(park: Any) -> None:  # noqa: F811
    _hub, store, _agent = park
    got = one(park, "GET", "/charging-controllers/CP2/function-config").json()
    assert set(got) == set(pointviews.SECTIONS["function-config"]) and got["rcm_enabled"] is False
    body = {"temp_sensor": "pt1000", "derating_start_temp_c": 45, "outputs": [{"mode": "high", "duty": 50}]}
    r = one(park, "PUT", "/charging-controllers/CP2/function-config", body)
    assert r.status_code == 200 and r.json()["derating_start_temp_c"] == 45, r.text
    assert store.get("chargepoint", "CP2")["outputs"] == [{"mode": "high", "duty": 50}]
    # the record's cross-field checks hold for a section too: start must stay below stop
    r = one(park, "PUT", "/charging-controllers/CP2/function-config", {"derating_stop_temp_c": 45})
    assert r.status_code == 422 and r.json()["field"] == "derating_start_temp_c", r.text
    r = one(park, "PUT", "/charging-controllers/CP2/function-config", {"event_actions": []})
    assert r.status_code == 422 and r.json()["field"] == "event_actions"
    assert store.get("chargepoint", "CP2")["derating_stop_temp_c"] == 60


def test_section_writes_need_the_module_online_and_its_confirmation(park: Any) -> None:  # noqa: F811
    hub, store, agent = park
    hub.take("CP2", sample("CP2", 2, online=False), time.time())
    r = one(park, "PUT", "/charging-controllers/CP2/event-action-config", {"event_actions": [RULE]})
    assert r.status_code == 504 and "offline" in r.json()["error"]
    assert store.get("chargepoint", "CP2")["event_actions"] == []
    assert one(park, "GET", "/charging-controllers/nope/function-config").status_code == 404
    hub.take("CP2", sample("CP2", 2), time.time())
    agent.answer = False  # the module never reports the new checksum
    r = one(park, "PUT", "/charging-controllers/CP2/event-action-config", {"event_actions": [RULE]})
    assert r.status_code == 504 and "did not confirm" in r.json()["error"], r.text


def test_hmi_config_is_the_charx_board_and_needs_one(park: Any) -> None:  # noqa: F811
    _hub, store, _agent = park
    got = one(park, "GET", "/charging-controllers/CP1/hmi-config").json()
    assert got == {"rfid_board_connection": "1:1", "rfid_buzzer_volume": 50, "rfid_profiles": []}
    r = one(park, "PUT", "/charging-controllers/CP1/hmi-config", {"rfid_buzzer_volume": 80})
    assert (
        r.status_code == 409
        and r.json()["field"] == "rfid_reader_type"
        and store.get("rfidboard", "CP1") is None
    )
    store.put("chargepoint", {"rfid_reader_type": "charx"}, "CP1")
    profiles = board.defaults()
    profiles[1] = dict(profiles[1], colour="blue")
    r = one(park, "PUT", "/charging-controllers/CP1/hmi-config",
            {"rfid_buzzer_volume": 80, "rfid_profiles": profiles})  # fmt: skip
    assert r.status_code == 200 and r.json()["rfid_buzzer_volume"] == 80, r.text
    assert store.get("rfidboard", "CP1")["rfid_profiles"][1]["colour"] == "blue"
    for body, field in (({"rfid_buzzer_volume": 101}, "rfid_buzzer_volume"),
                        ({"rfid_profiles": [dict(profiles[0], min_brightness=90, max_brightness=10)]},
                         "rfid_profiles[0].min_brightness"), ({"volume": 1}, "volume")):  # fmt: skip
        r = one(park, "PUT", "/charging-controllers/CP1/hmi-config", body)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    assert store.get("rfidboard", "CP1")["rfid_buzzer_volume"] == 80
    # the board's fields go with the record: a later config PUT is confirmed by the checksum of both
    r = one(park, "PUT", "/charging-points/CP1/config", {"location": "Bay 1"})
    assert r.status_code == 200, r.text


def test_hmi_data_is_the_reader_and_board(park: Any) -> None:  # noqa: F811
    _hub, store, _agent = park
    assert one(park, "GET", "/charging-controllers/CP1/hmi-data").json() == {
        "rfid_reader_type": "twn4", "charx_rfid_board": False, "firmware_version": "", "profiles_shown": []}  # fmt: skip
    store.put("chargepoint", {"rfid_reader_type": "charx"}, "CP1")
    store.put("rfidboard", {"rfid_board_connection": "1:n"}, "CP1")
    data = one(park, "GET", "/charging-controllers/CP1/hmi-data").json()
    assert data["charx_rfid_board"] is True and data["profiles_shown"] == board.used("1:n")
    r = one(park, "PUT", "/charging-controllers/CP1/hmi-data", {})  # nothing here drives a display
    assert r.status_code == 405 and r.json() == {"error": "Method Not Allowed", "field": ""}


def test_coupled_clients_are_the_client_stations(park: Any) -> None:  # noqa: F811
    hub, store, _agent = park
    assert one(park, "GET", "/coupled-clients").json() == []
    store.put("station", {"name": "Server"}, "S1")
    store.put("station", {"name": "North", "role": "client", "address": "192.168.4.2"}, "S2")
    store.put("module", {"station": "S2", "position": 2}, "CP2")
    store.put("module", {"station": "S2", "position": 1}, "CP9")
    clients = one(park, "GET", "/coupled-clients").json()
    assert clients == [{"device_uid": "S2", "name": "North", "location": "", "ip_address": "192.168.4.2",
                        "charging_controllers": ["CP9", "CP2"], "online": True}]  # fmt: skip
    hub.take("CP2", sample("CP2", 2, online=False), time.time())
    assert one(park, "GET", "/coupled-clients").json()[0]["online"] is False


def test_energy_meter_info(park: Any) -> None:  # noqa: F811
    hub, store, _agent = park
    feed = pointviews.MeterInfoFeed(store, hub)
    feed.refresh()
    energy = "/charging-controllers/CP1/data?param_list=energy"
    assert one(park, "GET", energy).json()["energy"]["energy_meter_info"] is None  # no meter configured
    store.put("chargepoint", {"meter_type": "em24"}, "CP1")
    store.put("module", {"station": "S1", "device_name": "rp2040"}, "CP1")
    published: list[tuple[str, Any]] = []
    hub.publish = lambda topic, payload: published.append((topic, payload))
    feed.refresh()
    info = one(park, "GET", energy).json()["energy"]["energy_meter_info"]
    assert info["meter_type"] == "em24" and info["model_number"].startswith("Carlo Gavazzi EM24")
    assert info["modbus_address"] == 1  # boards/rp2040/board.json
    assert info["serial_number"] == "" and info["firmware_version"] == ""  # the module has not read them
    assert any(t.endswith("CP1/data/energy") and "em24" in str(p) for t, p in published)  # MQTT too
    published.clear()
    feed.refresh()
    assert published == []  # nothing changed: nothing read or republished
    store.put("module", {"device_name": "sim"}, "CP1")  # a board without a meter line of its own
    feed.refresh()
    assert "modbus_address" not in one(park, "GET", energy).json()["energy"]["energy_meter_info"]
