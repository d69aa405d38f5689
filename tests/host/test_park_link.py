"""The park's link over ETH1 (park/link.py, park/startup.py): the client broker's bridge section and what
two real mosquittos make of it (the client's point topics reach the server's park listener, the server's
configuration and commands come back, nothing else crosses), and what `chargepark run` prepares for its
broker by the station's role (a server's ETH1 file below the data directory's development network root,
its park listener; a client's bridge). Two whole heads: tests/e2e/test_park_two_heads.py."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import chargeschema
import paho.mqtt.client as paho
import pytest
from chargepark import topics
from chargepark.broker import start_broker
from chargepark.config.areas import AREAS
from chargepark.config.store import ConfigStore
from chargepark.network import host as network_host
from chargepark.network import layout
from chargepark.park import eth1, link, role, startup
from chargepark.procs import stop_child
from chargepark.runtime import Runtime, free_port
from paho.mqtt.enums import CallbackAPIVersion

from tests.host.headkit import Collector
from tests.host.test_park_role import runtime

PARK_HOST = "127.0.0.2"  # the server's park listener in these tests (192.168.4.1 on a real park)
SECRET = "cabinet 7 secret"  # the park's park_password (a blank inside is kept)


def test_the_bridge_section_names_the_server_and_routes_the_agents_topics_by_direction() -> None:
    lines = link.bridge("192.168.4.1", 1883, "CPC0001", "park secret").splitlines()
    assert lines[:5] == [
        "connection park",
        "address 192.168.4.1:1883",
        "remote_clientid chargepark-park-CPC0001",
        "remote_username chargepark-park",
        "remote_password park secret",
    ]
    routes = [ln.split()[1:] for ln in lines if ln.startswith("topic ")]
    assert routes == [
        ["applications/controller-agent/charging_controllers/+/live", "out", "0"],
        ["applications/controller-agent/charging_controllers/+/event", "out", "1"],
        ["applications/controller-agent/charging_controllers/+/command_result", "out", "0"],
        ["applications/controller-agent/park/stations/CPC0001", "out", "1"],  # its own report only
        ["applications/controller-agent/update/progress", "out", "0"],
        ["applications/controller-agent/charging_controllers/+/command", "in", "0"],
        ["applications/controller-agent/park/charging_controllers/+/config", "in", "1"],
        ["applications/controller-agent/park/stations/CPC0001/update", "in", "1"],  # its own updates only
    ]
    assert [p for p, _w, _q in link.ROUTES] == [
        topics.AGENT_LIVE, topics.AGENT_EVENT, topics.AGENT_COMMAND_RESULT, topics.AGENT_PARK_STATION,
        topics.AGENT_UPDATE_PROGRESS, topics.AGENT_COMMAND, topics.AGENT_PARK_CONFIG, topics.AGENT_PARK_UPDATE,
    ]  # fmt: skip


def test_the_park_broker_is_the_system_areas_else_the_servers_eth1_address() -> None:
    assert link.server_of({"park_broker": ""}) == ("192.168.4.1", 1883)
    assert link.server_of({"park_broker": "127.0.0.2:4711"}) == ("127.0.0.2", 4711)
    for bad in (
        "server.example:1883",
        "192.168.4.1",
        "[::1]:1883",
    ):  # the server's broker binds an IPv4 address
        with pytest.raises(chargeschema.Invalid, match="park_broker"):
            AREAS["system"].validate({"park_broker": bad})


class Publisher:
    """A real paho client publishing QoS 1 to one broker, each publish acknowledged before it returns."""

    def __init__(self, port: int) -> None:
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id="test-pub-%d-%d" % (os.getpid(), port)
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def __call__(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_two_real_brokers_carry_the_clients_points_out_and_the_servers_word_in(tmp_path: Path) -> None:
    async def main() -> None:
        park_port, server_port, client_port = free_port(PARK_HOST), free_port(), free_port()
        server = await start_broker(tmp_path / "s", "127.0.0.1", server_port, tmp_path / "s.log",
                                    listeners=((PARK_HOST, park_port),), park_password=SECRET)  # fmt: skip
        client = await start_broker(tmp_path / "c", "127.0.0.1", client_port, tmp_path / "c.log",
                                    bridge=link.bridge(PARK_HOST, park_port, "CPC0001", SECRET))  # fmt: skip
        at_server, at_client = Collector(server_port), Collector(client_port)
        to_server, to_client = Publisher(server_port), Publisher(client_port)
        try:
            live = topics.fill(topics.AGENT_LIVE, uid="CPC0001")
            config = topics.fill(topics.AGENT_PARK_CONFIG, uid="CPC0001")
            command = topics.fill(topics.AGENT_COMMAND, uid="CPC0001")
            # the bridge connects within its restart timeout: the client's live state then arrives
            await asyncio.to_thread(
                at_server.wait_for, lambda seen: to_client(live, "{}") or live in seen, 15
            )
            to_client(topics.fill(topics.AGENT_PARK_STATION, uid="CPC0001"), "own", retain=True)
            to_client(topics.fill(topics.AGENT_PARK_STATION, uid="CPOTHER1"), "not ours")
            to_client(topics.AGENT_MODULES, "[]")  # the client's own module list stays home
            to_server(config, '{"x": 1}', retain=True)
            to_server(command, '{"id": "a"}')
            to_server(topics.SERVICES, "[]")
            await asyncio.to_thread(at_client.wait_for, lambda seen: config in seen and command in seen)
            own = topics.fill(topics.AGENT_PARK_STATION, uid="CPC0001")
            await asyncio.to_thread(at_server.wait_for, lambda s: s.get(own) == b"own")
            to_client(live, "marker")  # in order behind everything published before it
            await asyncio.to_thread(at_server.wait_for, lambda s: s[live] == b"marker")
            seen = dict(at_server.last)
            assert topics.fill(topics.AGENT_PARK_STATION, uid="CPOTHER1") not in seen
            assert seen.get(topics.AGENT_MODULES) is None
            assert topics.SERVICES not in at_client.last
        finally:
            for c in (at_server, at_client, to_server, to_client):
                c.close()
            await stop_child(client)
            await stop_child(server)

    asyncio.run(main())


def test_a_server_writes_its_eth1_file_below_the_development_root_and_listens_on_the_park_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(network_host.ENV, raising=False)
    rt = runtime(tmp_path, listen="127.0.0.1", station="CPSIM0001")
    net = network_host.for_data(tmp_path)
    port = free_port(PARK_HOST)
    system = {"park_broker": "%s:%d" % (PARK_HOST, port), "park_password": SECRET}
    part = asyncio.run(startup.prepare(rt, system, net, own_broker=True))
    assert part == startup.BrokerPart(role.SERVER, listeners=((PARK_HOST, port),), password=SECRET)
    written = tmp_path / network_host.DEVELOPMENT_ROOT / layout.ETH1_NETWORK
    assert written.read_text() == eth1.network_file(role.SERVER, "")
    assert [p.name for p in written.parent.iterdir()] == [written.name]  # written whole: no temp file left
    with socket.socket() as taken:  # the park port in use: the head runs without the listener
        taken.bind((PARK_HOST, port))
        part = asyncio.run(startup.prepare(rt, system, net, True))
    assert part == startup.BrokerPart(role.SERVER)


def test_a_client_gets_the_bridge_to_its_server_and_no_eth1_file_of_the_servers(tmp_path: Path) -> None:
    rt = Runtime(data_dir=str(tmp_path), mqtt_port=1883, rest_port=0, web_port=0, bus={"station": "CPC0001"})
    store = ConfigStore.open(rt.config_path)
    store.put("station", {"role": "client", "address": "192.168.4.2"}, "CPC0001")
    store.close()
    net = network_host.for_data(tmp_path)
    system = {"park_broker": "127.0.0.2:4711", "park_password": SECRET}
    part = asyncio.run(startup.prepare(rt, system, net, own_broker=True))
    assert part == startup.BrokerPart(role.CLIENT, bridge=link.bridge("127.0.0.2", 4711, "CPC0001", SECRET))
    assert not (tmp_path / network_host.DEVELOPMENT_ROOT).exists()  # its Module Switch wrote its ETH1 file
    assert asyncio.run(startup.prepare(rt, system, net, own_broker=False)) == startup.BrokerPart(role.CLIENT)
