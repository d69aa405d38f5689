"""End to end, a client/server park (manual "System Control/Module Switch"): two real heads, each
`chargepark run --sim 1` with its own mosquitto and micropython module. The client (its station's role
client, as the Module Switch stores it, and its own UID prefix) has its broker bridge its point to the
server's broker, which listens on the park address (`park_broker`, here on loopback) beside its own and
takes the client's bridge by the park's secret (`park_password`, the same on both heads).
The server's REST and WBM show both points; a configuration the server stores for the client's point
reaches the client's module (confirmed by the module's checksum), and the server releases it to charge."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chargepark import simctl
from chargepark.config.cli import STORE_FILE
from chargepark.config.store import ConfigStore
from chargepark.datahub import pushed
from chargepark.modbus.encode import decode
from chargepark.runtime import free_port
from chargepark.simpark import sim_uid
from ocpp.v16 import call

from tests.e2e.test_head_sim import cli, run_sim, sim_runtime, until
from tests.e2e.test_modbus_sim import mbpoll
from tests.e2e.test_rest_control import rest
from tests.host.ocppkit import CentralSystem
from tests.host.wbmkit import logged_in

SERVER_POINT, CLIENT_POINT = sim_uid(1), sim_uid(1, "CPC")
CLIENT_ADDRESS = "192.168.4.2"  # the client's ETH1 address its Module Switch stored
PARK_PASSWORD = "e2e park secret"  # the same on both heads: the server's park listener refuses others


@dataclass
class Head:
    data: Path
    proc: subprocess.Popen[bytes]

    def rest(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return rest(sim_runtime(self.data), method, path, body)

    def module(self) -> dict[str, Any]:
        endpoint = simctl.load_endpoints(self.data)[1]["sim_control"]
        point: dict[str, Any] = simctl.request(endpoint, {"cmd": "state"})["point"]
        return point

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=60)
        return self.proc.returncode


def configure(data: Path, area: str, record: dict[str, Any], key: str | None = None) -> None:
    out = cli(
        "config", "--data", str(data), "set", area, json.dumps(record), *(("--key", key) if key else ())
    )
    assert out.returncode == 0, out.stdout + out.stderr


def read_store(data: Path, read: Callable[[ConfigStore], Any]) -> Any:
    store = ConfigStore.open(data / STORE_FILE)
    try:
        return read(store)
    finally:
        store.close()


@pytest.fixture
def park(tmp_path: Path) -> Iterator[tuple[Head, Head]]:
    """(server, client), both running, the park's broker link on 127.0.0.2 and a free port."""
    park_broker = "127.0.0.2:%d" % free_port("127.0.0.2")
    heads: list[Head] = []
    try:
        for name, prefix, extra in (("server", "CPSIM", ()), ("client", "CPC", ("--no-traffic",))):
            data = tmp_path / name
            data.mkdir()
            configure(data, "system", {"park_broker": park_broker, "park_password": PARK_PASSWORD})
            if name == "client":  # what the Module Switch stores (its ETH1 file is its own test's)
                configure(data, "station", {"role": "client", "address": CLIENT_ADDRESS}, sim_uid(1, prefix))
            heads.append(Head(data, run_sim(data, 1, "--sim-prefix", prefix, *extra)))
        yield heads[0], heads[1]
    finally:
        codes = [h.stop() for h in heads]
    assert codes == [0] * len(heads)


@pytest.mark.slow
def test_the_server_shows_configures_and_releases_the_clients_point(park: tuple[Head, Head]) -> None:
    server, client = park
    for uid in (SERVER_POINT, CLIENT_POINT):
        until("the server's REST sees %s online" % uid, lambda u=uid: server.rest(
            "GET", "/charging-controllers/%s/data?param_list=bus_state" % u) == (200, {"bus_state": "online"}),
            120)  # fmt: skip
    controllers = server.rest("GET", "/charging-controllers")[1]
    assert {SERVER_POINT, CLIENT_POINT} <= set(controllers)

    rt = sim_runtime(server.data)
    dashboard = "http://127.0.0.1:%d/api/park" % rt["web_port"]
    until("the server's WBM answers", lambda: urllib.request.urlopen(dashboard, timeout=5).status == 200)
    with logged_in("http://127.0.0.1:%d" % rt["web_port"], "user") as wbm:
        tree = until("the WBM's park tree shows the client station with its point", lambda: (
            t := wbm.get("/api/wbm/park").json()) and any(
            st["uid"] == CLIENT_POINT and [p["uid"] for p in st["points"]] == [CLIENT_POINT]
            for st in t["stations"]) and t, 30)  # fmt: skip
        until("the WBM's live view has both points", lambda: {
            p["uid"] for p in wbm.get("/api/wbm/live").json()["points"]} >= {SERVER_POINT, CLIENT_POINT}, 30)  # fmt: skip
        roles = {st["uid"]: (st["role"], [p["uid"] for p in st["points"]]) for st in tree["stations"]}
        assert roles == {SERVER_POINT: ("server", [SERVER_POINT]), CLIENT_POINT: ("client", [CLIENT_POINT])}
    coupled = server.rest("GET", "/coupled-clients")[1]
    assert [(c["device_uid"], c["ip_address"], c["charging_controllers"], c["online"]) for c in coupled] == [
        (CLIENT_POINT, CLIENT_ADDRESS, [CLIENT_POINT], True)
    ]

    # The server's configuration of the client's point: answered once the client's module runs it.
    status, body = server.rest("PUT", "/charging-points/%s/config" % CLIENT_POINT,
                               {"release_charging_mode": "remote", "max_current_a": 20})  # fmt: skip
    assert status == 200, body
    stored = read_store(server.data, lambda st: st.get("chargepoint", CLIENT_POINT))
    assert stored["max_current_a"] == 20 and stored["release_mode"] == "remote"
    until("the client stored the server's configuration",
          lambda: read_store(client.data, lambda st: st.get("chargepoint", CLIENT_POINT)) == stored, 15)  # fmt: skip
    want = read_store(server.data, lambda st: pushed.checksum(st, CLIENT_POINT))  # what the REST waited for
    assert want and client.module()["config_checksum"] == want

    charge_at_client(server, client)
    assert client.module()["contactor"]


def charge_at_client(server: Head, client: Head) -> None:
    """An EV at the client's point; the server's REST releases it and shows it charging."""
    for step in ("plug", "charge"):
        out = cli("sim", "--data", str(client.data), "--point", "1", step)
        assert out.returncode == 0, out.stdout + out.stderr
    until("the EV waits for its release", lambda: client.module()["status_name"] == "SuspendedEVSE", 30)
    status, body = server.rest(
        "PUT", "/charging-controllers/%s/control" % CLIENT_POINT, {"charge_enable": True}
    )
    assert status == 200, body
    until("the server shows the client's point charging", lambda: server.rest(
        "GET", "/charging-controllers/%s/data?param_list=status" % CLIENT_POINT) == (200, {"status": "Charging"}),
        30)  # fmt: skip


@pytest.mark.slow
def test_the_servers_ocpp_serves_the_clients_point(park: tuple[Head, Head]) -> None:
    """The server's OCPP service takes the client's point as a connector of its charge box (the manual: the
    server does what a client's services no longer do): a remote start reaches the client's module over
    the park link, and its session comes back as StartTransaction and StopTransaction."""
    server, client = park
    cs = CentralSystem(interval=30)
    cs.start()
    try:
        until("the server sees the client's point online", lambda: server.rest(
            "GET", "/charging-controllers/%s/data?param_list=bus_state" % CLIENT_POINT) == (200, {"bus_state": "online"}),
            120)  # fmt: skip
        configure(server.data, "ocpp", {"BackendURL": cs.url})
        status, body = server.rest("PUT", "/charging-points/%s/config" % CLIENT_POINT,
                                   {"release_charging_mode": "ocpp", "ocpp_connector_id": 1})  # fmt: skip
        assert status == 200, body
        cs.wait("BootNotification", lambda: cs.actions("BootNotification"), 90)
        cs.wait("connector 1 Available", lambda: [s for s in cs.actions("StatusNotification")
                                                  if s.payload["connectorId"] == 1 and s.payload["status"] == "Available"], 60)  # fmt: skip
        for step in ("plug", "charge"):
            out = cli("sim", "--data", str(client.data), "--point", "1", step)
            assert out.returncode == 0, out.stdout + out.stderr
        cs.wait(
            "Preparing", lambda: cs.actions("StatusNotification")[-1].payload["status"] == "Preparing", 30
        )
        assert cs.call(call.RemoteStartTransaction(id_tag="PARK1", connector_id=1)).status == "Accepted"
        start = cs.wait("StartTransaction", lambda: cs.actions("StartTransaction"), 30)[0]
        assert start.payload["connectorId"] == 1 and start.payload["idTag"] == "PARK1"
        cs.wait("Charging", lambda: cs.actions("StatusNotification")[-1].payload["status"] == "Charging", 30)
        assert client.module()["contactor"]
        out = cli("sim", "--data", str(client.data), "--point", "1", "unplug")
        assert out.returncode == 0, out.stdout + out.stderr
        stop = cs.wait("StopTransaction", lambda: cs.actions("StopTransaction"), 30)[0]
        assert stop.payload["reason"] == "EVDisconnected"
        assert stop.payload["meterStop"] >= start.payload["meterStart"]
    finally:
        cs.close()


@pytest.mark.slow
def test_the_servers_modbus_serves_the_clients_point(park: tuple[Head, Head]) -> None:
    """The server's Modbus Server maps the client's point beside its own: its identification and its
    vehicle state come from the client's module over the park link, read by Debian's mbpoll."""
    server, client = park
    port = free_port()
    until("the server sees the client's point online", lambda: server.rest(
        "GET", "/charging-controllers/%s/data?param_list=bus_state" % CLIENT_POINT) == (200, {"bus_state": "online"}),
        120)  # fmt: skip
    configure(server.data, "modbus", {"server_port": port})
    out = cli(
        "service", "restart", "modbus-server", "--data", str(server.data)
    )  # the port is read at its start
    assert out.returncode == 0, out.stdout + out.stderr
    until("two points over the server's Modbus", lambda: mbpoll(port, 114) == [2], 60)
    conf = {start: decode("ascii", mbpoll(port, start + 113, 3)) for start in (1000, 2000)}
    assert sorted(conf.values()) == sorted(uid[-6:] for uid in (SERVER_POINT, CLIENT_POINT))
    at = next(start for start, uid in conf.items() if uid == CLIENT_POINT[-6:])
    out = cli("sim", "--data", str(client.data), "--point", "1", "plug")
    assert out.returncode == 0, out.stdout + out.stderr
    until("the client's vehicle (state B) in the server's registers",
          lambda: decode("ascii", mbpoll(port, at + 299, 1))[0] == "B", 30)  # fmt: skip
