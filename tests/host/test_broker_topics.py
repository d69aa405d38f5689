"""The local bus: a real mosquitto on an ephemeral loopback port, and the topic map with its document."""

from __future__ import annotations

import asyncio
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from chargepark import topics
from chargepark.broker import render_config, start_broker
from chargepark.mqtt import MqttLink
from chargepark.services import docs
from chargepark.services.spec import ServiceSpec
from headkit import Collector, broker_runtime, stop
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[2]
TEST_SPEC = ServiceSpec(
    "test-link",
    "Test link",
    "a test client",
    publishes=(topics.CHARX_DATA, topics.AGENT_COMMAND_RESULT),
    subscribes=(topics.AGENT_COMMAND, topics.CHARX_DATA, topics.AGENT_COMMAND_RESULT),
    client_id="test-link",
)


def test_broker_config_listens_on_loopback_only() -> None:
    conf = render_config("127.0.0.1", 18830)
    assert "listener 18830 127.0.0.1" in conf
    assert sum(1 for ln in conf.splitlines() if ln.startswith("listener ")) == 1


def test_mosquitto_carries_messages_between_real_clients(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, proc = await broker_runtime(tmp_path)
        try:
            seen = Collector(rt.mqtt_port, "charging_controllers/#")
            link = MqttLink(rt.mqtt_host, rt.mqtt_port, TEST_SPEC)
            await link.connect()
            got: list[tuple[str, bytes]] = []

            def broken(topic: str, payload: bytes) -> None:
                raise RuntimeError("a handler's bug")

            await link.subscribe(topics.subscription(topics.AGENT_COMMAND), broken)  # must not end the link
            # Returns once the broker acknowledged it: no sleep before publishing.
            await link.subscribe(topics.subscription(topics.AGENT_COMMAND), lambda t, p: got.append((t, p)))
            link.publish(topics.charx("uid7", "iec_61851_state"), "C2")
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
            pub.publish(topics.fill(topics.AGENT_COMMAND, uid="uid7"), b"again").wait_for_publish()
            for _ in range(100):
                if len(got) == 2:
                    break
                await asyncio.sleep(0.05)
            assert got[1][1] == b"again" and link.connected
            seen.wait_for(lambda m: m.get("charging_controllers/uid7/data/iec_61851_state") == b"C2")
            pub.loop_stop()
            await link.close()
            seen.close()
        finally:
            await stop(proc)
        assert proc.returncode is not None

    asyncio.run(scenario())


def test_the_link_publishes_retained_as_the_map_says_and_only_declared_topics(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, proc = await broker_runtime(tmp_path)
        try:
            link = MqttLink(rt.mqtt_host, rt.mqtt_port, TEST_SPEC)
            await link.connect()
            retained = topics.charx("uid8", "status")
            not_retained = topics.fill(topics.AGENT_COMMAND_RESULT, uid="uid8")
            assert topics.entry(retained).retained and not topics.entry(not_retained).retained
            echoed: list[str] = []
            for pattern in (topics.CHARX_DATA, topics.AGENT_COMMAND_RESULT):
                await link.subscribe(topics.subscription(pattern), lambda t, p: echoed.append(t))
            link.publish(retained, "Charging")
            link.publish(not_retained, '{"id": "x", "ok": true}')
            for _ in range(100):
                if len(echoed) == 2:
                    break
                await asyncio.sleep(0.05)
            assert sorted(echoed) == sorted([retained, not_retained])
            late = Collector(rt.mqtt_port, "#")  # subscribes after both were delivered
            await asyncio.to_thread(late.wait_for, lambda m: retained in m)
            await asyncio.sleep(0.3)
            assert not_retained not in late.last
            with pytest.raises(ValueError, match="does not declare"):
                link.publish(topics.SERVICES, "[]")
            with pytest.raises(KeyError, match="not in the topic map"):
                link.publish("somewhere/else", "x")
            with pytest.raises(ValueError, match="does not declare"):
                await link.subscribe(topics.SERVICES, lambda t, p: None)
            with pytest.raises(KeyError, match="reads no topic"):
                await link.subscribe("applications/+/modules", lambda t, p: None)
            late.close()
            await link.close()
        finally:
            await stop(proc)

    asyncio.run(scenario())


def test_the_link_keeps_the_order_of_publishes(tmp_path: Path) -> None:
    async def scenario() -> None:
        rt, proc = await broker_runtime(tmp_path)
        try:
            link = MqttLink(rt.mqtt_host, rt.mqtt_port, TEST_SPEC)
            await link.connect()
            got: list[bytes] = []
            await link.subscribe(topics.subscription(topics.CHARX_DATA), lambda t, p: got.append(p))
            sent = [b"%d" % i for i in range(2000)]  # in batches: each must still go out in order
            for value in sent:
                link.publish(topics.charx("uid9", "status"), value)
            for _ in range(200):
                if len(got) == len(sent):
                    break
                await asyncio.sleep(0.05)
            assert got == sent
            await link.close()
        finally:
            await stop(proc)

    asyncio.run(scenario())


def test_a_persistent_session_gets_the_qos1_events_of_the_time_it_was_down(tmp_path: Path) -> None:
    """The data hub's link: events published while it is down (kill -9, restart) arrive when it is back,
    also the ones the broker sends before the service registered its handler."""
    hub_spec = ServiceSpec("hub", "Hub", "test", subscribes=(topics.AGENT_EVENT,), client_id="test-hub",
                           persistent_session=True)  # fmt: skip
    agent_spec = ServiceSpec(
        "agent", "Agent", "test", publishes=(topics.AGENT_EVENT,), client_id="test-agent"
    )

    async def scenario() -> None:
        rt, proc = await broker_runtime(tmp_path)
        try:
            hub = MqttLink(rt.mqtt_host, rt.mqtt_port, hub_spec)
            await hub.connect()
            got: list[bytes] = []
            await hub.subscribe(topics.subscription(topics.AGENT_EVENT), lambda t, p: got.append(p))
            await hub.close()  # the hub goes down
            agent = MqttLink(rt.mqtt_host, rt.mqtt_port, agent_spec)
            await agent.connect()
            sent = [b"%d" % i for i in range(50)]
            for value in sent:
                agent.publish(topics.fill(topics.AGENT_EVENT, uid="u1"), value)
            await agent.close(flush_s=5.0)
            hub = MqttLink(rt.mqtt_host, rt.mqtt_port, hub_spec)  # back: connects before it subscribes
            await hub.connect()
            await asyncio.sleep(0.5)
            await hub.subscribe(topics.subscription(topics.AGENT_EVENT), lambda t, p: got.append(p))
            for _ in range(100):
                if len(got) == len(sent):
                    break
                await asyncio.sleep(0.05)
            assert got == sent
            await hub.close()
        finally:
            await stop(proc)

    asyncio.run(scenario())


def test_topic_document_is_current() -> None:
    assert (ROOT / "docs" / "mqtt-topics.md").read_text() == docs.topics_md(), (
        "docs/mqtt-topics.md is stale: python -m chargepark.services.docs"
    )


def test_no_topic_matches_two_patterns() -> None:
    levels = [t.pattern.split("/") for t in topics.TOPICS]
    for i, a in enumerate(levels):
        for b in levels[i + 1 :]:
            overlap = len(a) == len(b) and all(
                x == y or "{" in x or "{" in y for x, y in zip(a, b, strict=True)
            )
            assert not overlap, (a, b)
    for t in topics.TOPICS:
        concrete = topics.fill(t.pattern, uid="u1", param="status", area="system", circuit="lc1")
        assert topics.entry(concrete) is t
        assert topics.entry_of_subscription(topics.subscription(t.pattern)) is t


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


def test_the_link_takes_every_complete_packet_of_a_read_and_keeps_a_split_one() -> None:
    """The byte stream from the broker cut anywhere: each PUBLISH reaches the handler once, in order
    (remaining lengths of one, two and three bytes), whether a read holds many packets or a piece."""
    from chargepark import mqtt

    sizes = (0, 5, 127, 128, 16383, 16384, 70000)
    sent = [(topics.charx("uid%d" % n, "status"), bytes([n % 251]) * n) for n in sizes]
    stream = b"".join(mqtt._publish_packet(t, p, False, 0, 0) for t, p in sent)
    stream += mqtt._publish_packet(topics.charx("uidq", "status"), b"qos1", False, 1, 7)

    async def feed(pieces: list[bytes]) -> tuple[list[tuple[str, bytes]], list[bytes]]:
        link = MqttLink("127.0.0.1", 1, TEST_SPEC)
        got: list[tuple[str, bytes]] = []
        link._handlers.append((topics.subscription(topics.CHARX_DATA), lambda t, p: got.append((t, p))))
        wire = mqtt._Wire(link)
        acks: list[bytes] = []
        wire.write = acks.append  # type: ignore[method-assign]
        for piece in pieces:
            wire.data_received(piece)
        return got, acks

    want = [*sent, (topics.charx("uidq", "status"), b"qos1")]
    for step in (len(stream), 1, 3, 1000):
        got, acks = asyncio.run(feed([stream[i : i + step] for i in range(0, len(stream), step)]))
        assert got == want, step
        assert acks == [bytes((mqtt.PUBACK, 2, 0, 7))]  # the QoS 1 message acknowledged by its id


def test_the_link_comes_back_after_a_broker_restart(tmp_path: Path) -> None:
    """mosquitto restarted (the supervisor does that): the link connects again, its subscriptions are
    made again, and what was published while the broker was away goes out, in order."""

    async def scenario() -> None:
        rt, proc = await broker_runtime(tmp_path)
        link = MqttLink(rt.mqtt_host, rt.mqtt_port, TEST_SPEC)
        try:
            await link.connect()
            got: list[bytes] = []
            await link.subscribe(topics.subscription(topics.AGENT_COMMAND), lambda t, p: got.append(p))
            await stop(proc)
            for _ in range(100):
                if not link.connected:
                    break
                await asyncio.sleep(0.05)
            assert not link.connected
            for i in range(20):  # queued while the broker is away
                link.publish(topics.charx("uid5", "status"), b"%d" % i)
            log = tmp_path / "logs" / "mosquitto-again.log"
            proc = await start_broker(rt.run_dir, rt.mqtt_host, rt.mqtt_port, log)
            for _ in range(100):
                if link.connected:
                    break
                await asyncio.sleep(0.05)
            assert link.connected
            late = Collector(rt.mqtt_port, "charging_controllers/#")  # the retained value: the queue's last
            await asyncio.to_thread(late.wait_for, lambda m: m.get(topics.charx("uid5", "status")) == b"19")
            late.close()
            pub = paho.Client(CallbackAPIVersion.VERSION2)
            pub.connect("127.0.0.1", rt.mqtt_port)
            pub.loop_start()
            pub.publish(topics.fill(topics.AGENT_COMMAND, uid="uid5"), b"after").wait_for_publish()
            for _ in range(100):
                if got:
                    break
                await asyncio.sleep(0.05)
            pub.loop_stop()
            assert got == [b"after"]
        finally:
            await link.close()
            await stop(proc)

    asyncio.run(scenario())
