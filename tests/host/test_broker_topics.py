"""The local bus: a real mosquitto on an ephemeral loopback port, and the topic map with its document."""

from __future__ import annotations

import asyncio
from pathlib import Path

import paho.mqtt.client as paho
from chargepark import topics
from chargepark.broker import render_config
from chargepark.mqtt import MqttLink
from headkit import Collector, broker_runtime, stop
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[2]


def test_broker_config_listens_on_loopback_only() -> None:
    conf = render_config("127.0.0.1", 18830)
    assert "listener 18830 127.0.0.1" in conf
    assert sum(1 for ln in conf.splitlines() if ln.startswith("listener ")) == 1


def test_mosquitto_carries_messages_between_real_clients(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, proc = await broker_runtime(tmp_path)
        try:
            seen = Collector(rt.mqtt_port, "charging_controllers/#")
            link = MqttLink(rt.mqtt_host, rt.mqtt_port, "test-link")
            await link.connect()
            got: list[tuple[str, bytes]] = []
            link.subscribe(topics.subscription(topics.AGENT_COMMAND), lambda t, p: got.append((t, p)))
            await asyncio.sleep(0.3)
            link.publish(topics.charx("uid7", "iec_61851_state"), "C2", retain=True)
            pub = paho.Client(CallbackAPIVersion.VERSION2)
            pub.connect("127.0.0.1", rt.mqtt_port)
            pub.loop_start()
            pub.publish(
                topics.fill(topics.AGENT_COMMAND, uid="uid7"), b'{"name": "release", "value": true}'
            ).wait_for_publish()
            for _ in range(100):
                if got:
                    break
                await asyncio.sleep(0.05)
            assert got == [
                (topics.fill(topics.AGENT_COMMAND, uid="uid7"), b'{"name": "release", "value": true}')
            ]
            seen.wait_for(lambda m: m.get("charging_controllers/uid7/data/iec_61851_state") == b"C2")
            pub.loop_stop()
            link.close()
            seen.close()
        finally:
            await stop(proc)
        assert proc.returncode is not None

    asyncio.run(scenario())


def test_topic_document_is_current() -> None:
    assert (ROOT / "docs" / "mqtt-topics.md").read_text() == topics.render_markdown(), (
        "docs/mqtt-topics.md is stale: python -m chargepark.topics > docs/mqtt-topics.md"
    )


def test_uid_of_matches_patterns_only() -> None:
    assert topics.uid_of("charging_controllers/abc/data/live", topics.CHARX_DATA) == "abc"
    assert (
        topics.uid_of("applications/controller-agent/charging_controllers/x1/live", topics.AGENT_LIVE) == "x1"
    )
    assert (
        topics.uid_of("applications/controller-agent/charging_controllers/x1/event", topics.AGENT_LIVE)
        is None
    )
    assert topics.uid_of("charging_controllers/abc/data", topics.CHARX_DATA) is None
    assert topics.subscription(topics.CHARX_DATA) == "charging_controllers/+/data/+"


def test_every_data_param_the_hub_publishes_is_in_the_map() -> None:
    from chargepark.datahub.point import PointTracker

    p = PointTracker("u")
    p.update({"iec_state": 0, "status": 0}, True, 1.0)
    assert set(p.params()) | {"live"} == set(topics.DATA_PARAMS)
