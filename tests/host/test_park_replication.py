"""A client/server park's replication in the controller agents (manual "System Control/Module Switch": the
server takes over): the server takes a client's report over, checked whole against the station and module
areas (park/server.py), and publishes each client point's module configuration; the client takes it
validated whole and stores the chargepoint record and the derived fields in one transaction, or nothing
(park/client.py). Over real brokers: tests/host/test_park_link.py; two heads: tests/e2e/test_park_two_heads.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pointconfig
import pytest
from chargepark import topics
from chargepark.config.store import ConfigStore
from chargepark.datahub import pushed
from chargepark.park import client as park_client
from chargepark.park import server as park_server
from chargepark.park.client import ParkClient
from chargepark.park.server import ParkServer
from chargepark.simpark import SIM_POINT_CONFIG

CLIENT, POINT = "CPC0001", "CPC0002"
STATION_TOPIC = topics.fill(topics.AGENT_PARK_STATION, uid=CLIENT)
CONFIG_TOPIC = topics.fill(topics.AGENT_PARK_CONFIG, uid=POINT)


def module(uid: str, position: int, **over: Any) -> dict[str, Any]:
    return dict({"uid": uid, "position": position, "device_name": "sim", "hardware_version": "1",
                 "firmware_version": "abc", "online": True}, **over)  # fmt: skip


def report(**over: Any) -> dict[str, Any]:
    return dict({"station": CLIENT, "name": "Garage", "location": "North", "address": "192.168.4.2",
                 "modules": [module(CLIENT, 1), module(POINT, 2)]}, **over)  # fmt: skip


def raw(msg: Any) -> bytes:
    return json.dumps(msg).encode()


@pytest.fixture
def store(tmp_path: Path) -> ConfigStore:
    return ConfigStore.open(tmp_path / "config.db")


def test_a_clients_report_is_checked_whole_against_the_station_and_module_areas() -> None:
    taken = park_server.parse_station(CLIENT, raw(report()))
    assert taken["record"] == {
        "name": "Garage",
        "location": "North",
        "role": "client",
        "address": "192.168.4.2",
    }
    for bad, why in (
        (b"{", "not JSON"),
        (raw(report(station="CPOTHER")), "not the report of station"),
        (raw(report(address="192.168.4.1")), "server's ETH1 address"),
        (raw(report(address="10.0.0.2")), "park's 192.168.4.0/24"),
        (raw(report(name="x" * 33)), "name"),
        (raw(report(modules={})), "modules: must be a list"),
        (raw(report(modules=[{"uid": POINT}])), "each needs"),
        (raw(report(modules=[module("no/uid", 1)])), "not a device UID"),
        (raw(report(modules=[module(POINT, 13)])), "position"),
        (raw(report(modules=[module(POINT, "2")])), "position"),
    ):
        with pytest.raises(park_server.Refused, match=why):
            park_server.parse_station(CLIENT, bad)


def test_the_server_takes_a_clients_station_and_modules_over_and_publishes_their_configuration(
    store: ConfigStore,
) -> None:
    sent: list[tuple[str, str | bytes]] = []
    server = ParkServer(store, lambda t, p: sent.append((t, p)), "CPSIM0001")
    assert server.on_station(STATION_TOPIC, raw(report()))
    assert store.get("station", CLIENT) == {"name": "Garage", "location": "North", "role": "client",
                                            "address": "192.168.4.2"}  # fmt: skip
    assert {u: (m["station"], m["position"]) for u, m in store.get("module").items()} == {
        CLIENT: (CLIENT, 1),
        POINT: (CLIENT, 2),
    }
    assert [m["parent_device_uid"] for m in server.modules()] == [CLIENT, CLIENT]
    assert sorted(sent) == [(topics.fill(topics.AGENT_PARK_CONFIG, uid=u), "null") for u in (CLIENT, POINT)]

    # the server's WBM renames the station; the client's next report keeps the name, takes the address
    store.put("station", {"name": "Bay 2"}, CLIENT)
    store.put("chargepoint", dict(SIM_POINT_CONFIG, name="Point 2"), POINT)
    sent.clear()
    assert server.on_station(STATION_TOPIC, raw(report(address="192.168.4.9")))
    assert (
        store.get("station", CLIENT)["name"] == "Bay 2"
        and store.get("station", CLIENT)["address"] == "192.168.4.9"
    )
    assert sent == [(CONFIG_TOPIC, json.dumps(pushed.module_config(store, POINT), sort_keys=True))]
    sent.clear()
    server.publish_configs()
    assert sent == []  # unchanged: not sent again

    # refused reports and its own station's change nothing
    before = store.export()
    assert not server.on_station(STATION_TOPIC, raw(report(address="192.168.4.1")))
    assert not server.on_station(topics.fill(topics.AGENT_PARK_STATION, uid="CPSIM0001"), raw(report()))
    assert store.export() == before and sent == []


def server_config(tmp_path: Path, **over: Any) -> bytes:
    """What a server's agent publishes for POINT, from a real server store."""
    server = ConfigStore.open(tmp_path / "server.db")
    try:
        server.put("chargepoint", dict(SIM_POINT_CONFIG, **dict({"name": "Point 2"}, **over)), POINT)
        server.put("rfidboard", {"rfid_buzzer_volume": 80}, POINT)
        return json.dumps(pushed.module_config(server, POINT)).encode()
    finally:
        server.close()


def test_the_client_stores_the_servers_configuration_whole_and_sends_the_module_exactly_it(
    store: ConfigStore, tmp_path: Path
) -> None:
    client = ParkClient(store, lambda t, p: None, CLIENT)
    offered = server_config(tmp_path)
    client.on_config(CONFIG_TOPIC, offered, lambda uid: True)
    sent = park_client.module_config(store, POINT)
    assert sent is not None and pointconfig.checksum(sent) == pointconfig.checksum(json.loads(offered))
    assert store.get("parkpoint", POINT)["rfid_buzzer_volume"] == 80
    assert store.get("chargepoint", POINT)["name"] == "Point 2"

    # all or nothing: the chargepoint part breaks a park-wide rule here (its name is another point's),
    # so the derived part is not taken either
    store.put("chargepoint", dict(SIM_POINT_CONFIG, name="Taken"), "CPC0003")
    before = store.export()
    second = json.loads(server_config(tmp_path, name="Taken"))
    second["rfid_buzzer_volume"] = 10
    client.on_config(CONFIG_TOPIC, raw(second), lambda uid: True)
    assert store.export() == before

    # refused whole by the point schema: an unknown field, a value out of range, a derived field's check
    for bad in ({"no_such_field": 1}, {"max_current_a": 99},
                {"rfid_profiles": [{"min_brightness": 90, "max_brightness": 10}]}):  # fmt: skip
        with pytest.raises(park_client.Refused):
            park_client.parse_config(raw(dict(json.loads(offered), **bad)))
        client.on_config(CONFIG_TOPIC, raw(dict(json.loads(offered), **bad)), lambda uid: True)
        assert store.export() == before

    client.on_config(CONFIG_TOPIC, b"null", lambda uid: True)  # not configured on the server
    assert store.get("chargepoint", POINT) is None and store.get("parkpoint", POINT) is None
    assert park_client.module_config(store, POINT) is None


def test_a_configuration_for_a_point_not_yet_found_waits_until_its_module_is(
    store: ConfigStore, tmp_path: Path
) -> None:
    client = ParkClient(store, lambda t, p: None, CLIENT)
    client.on_config(CONFIG_TOPIC, server_config(tmp_path), lambda uid: False)
    assert store.get("chargepoint", POINT) is None
    client.found(POINT)
    assert store.get("chargepoint", POINT)["name"] == "Point 2"
