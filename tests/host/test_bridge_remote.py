"""The MQTT bridge against a second real mosquitto as the remote broker on loopback: forwarding both ways
with the `+` device id, the station config, a remote restart mid-stream without losing a QoS 1 message,
a wrong password or CA certificate reported on the state topic (the service keeps running), TLS."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from bridgekit import (
    PASSWORD,
    POINTS,
    STATION,
    USER,
    RemoteBroker,
    make_ca,
    make_server_cert,
    pem,
    remote_client,
    start_bridge,
    wait_state,
)
from chargepark import topics
from chargepark.bridge import rules
from chargepark.broker import mosquitto_binary, render_config, wait_port
from chargepark.config import ConfigStore
from chargepark.network import layout
from chargepark.network.host import NetworkHost
from chargepark.procs import start_child
from chargepark.runtime import Runtime, free_port
from headkit import Collector, broker_runtime, stop
from paho.mqtt.enums import CallbackAPIVersion

ROWS = [
    {"local": "charging_controllers/+/data/energy", "remote": "energy", "direction": "out"},
    {"local": "charging_controllers/+/data/status", "remote": "status", "direction": "out"},
    {"local": "fleet/setpoint", "remote": "setpoint", "direction": "in"},
]


def area(remote: RemoteBroker, **over: Any) -> dict[str, Any]:
    cfg = {"broker": "127.0.0.1", "port": remote.port, "user": USER, "password": PASSWORD, "prefix": "CHARX",
           "station_name": "Test station", "location": "Blomberg", "topics": ROWS}  # fmt: skip
    cfg.update(over)
    return cfg


def head_publisher(port: int) -> paho.Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-head-pub")
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


async def until(check: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in %.0f s: %s" % (timeout, what))
        await asyncio.sleep(0.05)


def scenario(tmp_path: Path, body: Callable[..., Awaitable[None]], tls: bool = False) -> None:
    async def run() -> None:
        rt, head = await broker_runtime(tmp_path / "head")
        ca = make_ca("fleet CA")
        remote = RemoteBroker(tmp_path / "remote", make_server_cert(ca, tmp_path) if tls else None)
        await remote.start()
        store = ConfigStore.open(rt.config_path)
        run = None
        try:
            run = await start_bridge(rt, store)
            await body(rt, store, remote, run, ca)
        finally:
            if run is not None:
                await run.stop()
            store.close()
            await remote.stop()
            await stop(head)

    asyncio.run(run())


def test_forwarding_both_ways_with_the_device_id_and_the_station_config(tmp_path: Path) -> None:
    async def body(rt: Any, store: ConfigStore, remote: RemoteBroker, run: Any, ca: Any) -> None:
        got: list[tuple[str, bytes, bool]] = []
        fleet = remote_client(remote.port, "fleet-1", "CHARX/#", got)
        head_rx = Collector(rt.mqtt_port, "fleet/#")
        head_cmd = Collector(rt.mqtt_port, topics.BRIDGE_COMMAND)
        pub = head_publisher(rt.mqtt_port)
        try:
            store.put("mqtt_bridge", area(remote))
            await wait_state(run.bridge, "connected")
            cfg = store.get("mqtt_bridge")
            info = rules.info_topic(cfg, cfg["topics"][0], STATION)
            assert info == "CHARX/ev3000/+/energy"
            for uid in POINTS:
                pub.publish(topics.charx(uid, "energy"), "e-" + uid, qos=1)
            pub.publish(topics.charx(POINTS[0], "rfid"), "not forwarded", qos=1)
            want = {("CHARX/ev3000/%s/energy" % uid, b"e-" + uid.encode()) for uid in POINTS}
            await until(lambda: want <= {(t, p) for t, p, _ in got}, what="energy of both points")
            config = [json.loads(p) for t, p, _ in got if t == "CHARX/ev3000/%s/config" % STATION]
            assert config[-1] == {"device-type": "ev3000", "id": STATION, "name": "Test station",
                                  "location": "Blomberg"}  # fmt: skip
            assert not any("rfid" in t for t, _, _ in got)
            # remote -> local: the station's topic on the remote, the row's topic on the head
            fleet.publish("CHARX/ev3000/%s/setpoint" % STATION, "16", qos=1)
            await until(lambda: head_rx.last.get("fleet/setpoint") == b"16", what="setpoint on the head")
            fleet.publish("CHARX/ev3000/%s/command" % STATION, '{"openvpn": "connect"}', qos=1)
            await until(lambda: topics.BRIDGE_COMMAND in head_cmd.last, what="the OpenVPN command")
        finally:
            head_cmd.close()
            for c in (fleet, pub):
                c.loop_stop()
                c.disconnect()
            head_rx.close()

    scenario(tmp_path, body)


def test_a_remote_restart_mid_stream_loses_no_qos1_message(tmp_path: Path) -> None:
    async def body(rt: Any, store: ConfigStore, remote: RemoteBroker, run: Any, ca: Any) -> None:
        got: list[tuple[str, bytes, bool]] = []
        fleet = remote_client(remote.port, "fleet-restart", "CHARX/+/+/energy", got)
        pub = head_publisher(rt.mqtt_port)
        store.put("mqtt_bridge", area(remote))
        await wait_state(run.bridge, "connected")
        await asyncio.sleep(0.5)  # the fleet session's subscription stands
        total = 3000
        try:
            for i in range(total):
                pub.publish(topics.charx(POINTS[i % 2], "energy"), str(i), qos=1)
                if i == total // 3:
                    await remote.stop()
                if i == 2 * total // 3:
                    await remote.start()
                if i % 50 == 0:
                    await asyncio.sleep(0.01)
            seen = lambda: {int(p) for t, p, _ in got}  # noqa: E731
            await until(lambda: len(seen()) == total, timeout=60,
                        what="all %d messages (have %d)" % (total, len(seen())))  # fmt: skip
            assert run.bridge.state.state == "connected"
        finally:
            for c in (fleet, pub):
                c.loop_stop()
                c.disconnect()

    scenario(tmp_path, body)


def test_a_wrong_password_is_reported_and_a_right_one_connects(tmp_path: Path) -> None:
    async def body(rt: Any, store: ConfigStore, remote: RemoteBroker, run: Any, ca: Any) -> None:
        state = Collector(rt.mqtt_port, topics.BRIDGE_STATE)
        try:
            store.put("mqtt_bridge", area(remote, password="wrong"))
            report = await wait_state(run.bridge, "refused")
            assert "not authorised" in str(report["reason"])
            await until(
                lambda: json.loads(state.last.get(topics.BRIDGE_STATE, b"{}")).get("state") == "refused"
            )
            assert not run.task.done()  # never a crash
            store.put("mqtt_bridge", area(remote))  # announced by the store's writer, followed by the service
            await wait_state(run.bridge, "connected")
            store.put("mqtt_bridge", area(remote, broker="", topics=[]))
            report = await wait_state(run.bridge, "off")
            assert report["reason"] == "no remote broker configured"
        finally:
            state.close()

    scenario(tmp_path, body)


def test_tls_with_the_uploaded_ca_connects_and_a_foreign_ca_is_reported(tmp_path: Path) -> None:
    async def body(rt: Any, store: ConfigStore, remote: RemoteBroker, run: Any, ca: Any) -> None:
        store.put("mqtt_bridge", area(remote, certificate=pem(make_ca("someone else")[1])))
        report = await wait_state(run.bridge, "tls_error")
        assert "certificate verify failed" in str(report["reason"])
        assert not run.task.done()
        got: list[tuple[str, bytes, bool]] = []
        cafile = tmp_path / "fleet-ca.pem"
        cafile.write_text(pem(ca[1]))
        fleet = remote_client(remote.port, "fleet-tls", "CHARX/#", got, cafile)
        pub = head_publisher(rt.mqtt_port)
        try:
            store.put("mqtt_bridge", area(remote, certificate=pem(ca[1])))
            await wait_state(run.bridge, "connected")
            pub.publish(topics.charx(POINTS[1], "status"), "Charging", qos=1)
            await until(lambda: ("CHARX/ev3000/pt-b/status", b"Charging") in {(t, p) for t, p, _ in got})
        finally:
            for c in (fleet, pub):
                c.loop_stop()
                c.disconnect()

    scenario(tmp_path, body, tls=True)


def test_messages_the_head_drops_for_a_stalled_bridge_are_counted_exactly(tmp_path: Path) -> None:
    """A head with a small queue and a bridge mosquitto that stalls (SIGSTOP): what never reaches the fleet
    is what the bridge state reports dropped, never a silent loss."""

    async def run() -> None:
        rt = Runtime(data_dir=str(tmp_path / "head"), mqtt_port=free_port(), rest_port=0, web_port=0)
        rt.run_dir.mkdir(parents=True)
        conf = rt.run_dir / "mosquitto.conf"
        conf.write_text(render_config(rt.mqtt_host, rt.mqtt_port, queue=100) + "sys_interval 1\n")
        head = await start_child([mosquitto_binary(), "-c", str(conf)], tmp_path / "head.log")
        await wait_port(rt.mqtt_host, rt.mqtt_port, 10, head)
        remote = RemoteBroker(tmp_path / "remote")
        await remote.start()
        store = ConfigStore.open(rt.config_path)
        bridge = await start_bridge(rt, store)
        got: list[tuple[str, bytes, bool]] = []
        fleet = remote_client(remote.port, "fleet-drops", "CHARX/+/+/energy", got)
        pub = head_publisher(rt.mqtt_port)
        total = 600
        try:
            store.put("mqtt_bridge", area(remote))
            await wait_state(bridge.bridge, "connected")
            await asyncio.sleep(0.5)  # the fleet session's subscription stands
            proc = bridge.bridge._proc
            assert proc is not None
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                infos = [pub.publish(topics.charx(POINTS[0], "energy"), str(i), qos=1) for i in range(total)]
                await until(lambda: all(i.is_published() for i in infos), what="the head took every message")
            finally:
                os.kill(proc.pid, signal.SIGCONT)
            state = bridge.bridge.state
            await until(lambda: 0 < sum(state.dropped.values()) == total - len(got), timeout=60,
                        what="arrived + dropped = %d" % total)  # fmt: skip
            assert state.report()["dropped_at"] == {"head": total - len(got)}
            assert len({int(p) for _, p, _ in got}) == len(got)
        finally:
            for c in (fleet, pub):
                c.loop_stop()
                c.disconnect()
            await bridge.stop()
            store.close()
            await remote.stop()
            await stop(head)

    asyncio.run(run())


def test_the_remote_command_switches_the_vpn_only_on_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenVPN "On Request": `.../command` from the remote broker starts and stops the client unit (through
    a stand-in systemctl); in any other activation mode, or malformed, it changes nothing."""
    calls = tmp_path / "systemctl.log"
    fake = tmp_path / "systemctl"
    fake.write_text('#!/bin/sh\necho "$*" >> %s\n' % calls)
    fake.chmod(0o755)
    start, stop = "start " + layout.OPENVPN_SERVICE, "stop " + layout.OPENVPN_SERVICE

    def ran() -> list[str]:
        return calls.read_text().splitlines() if calls.exists() else []

    def refused() -> int:
        return sum(
            "refused: only with the activation mode On Request" in r.getMessage() for r in caplog.records
        )

    async def body(rt: Any, store: ConfigStore, remote: RemoteBroker, run: Any, ca: Any) -> None:
        run.bridge.network = NetworkHost(tmp_path / "root", system=True, tools={"systemctl": str(fake)})
        fleet = remote_client(remote.port, "fleet-vpn", "none/#", [])
        command = "CHARX/ev3000/%s/command" % STATION
        try:
            store.put("mqtt_bridge", area(remote))
            await wait_state(run.bridge, "connected")
            store.put(
                "network", {"openvpn_mode": "on_request", "openvpn_config": "client\nremote 10.0.0.1\n"}
            )
            fleet.publish(command, '{"openvpn": "connect"}', qos=1)
            await until(lambda: ran() == [start], what="the client started")
            fleet.publish(command, "not json", qos=1)
            fleet.publish(command, '{"openvpn": "disconnect"}', qos=1)
            await until(lambda: ran() == [start, stop], what="the client stopped")
            store.put("network", {"openvpn_mode": "on"})  # permanent: boot and apply own the client
            fleet.publish(command, '{"openvpn": "disconnect"}', qos=1)
            await until(lambda: refused() == 1, what="the command refused in mode on")
            assert ran() == [start, stop] and any("not json" in r.getMessage() for r in caplog.records)
        finally:
            fleet.loop_stop()
            fleet.disconnect()

    with caplog.at_level(logging.INFO, logger="chargepark.bridge"):
        scenario(tmp_path, body)
