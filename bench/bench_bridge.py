"""Benchmark: the MQTT bridge local -> remote for 250 points' data topics, beside a plain
mosquitto-to-mosquitto bridge with the same topics, measured in the same run.

Usage: bench/bench_bridge.py --out out/bench/bench_bridge.json [--quick]. Ours: the bridge service
(`chargepark.bridge`) on a head broker, one forwarding row `charging_controllers/+/data/#` -> `data`
expanded for 250 discovered points, through its bridge mosquitto to a remote mosquitto. Plain: a second
local mosquitto whose own configuration has one bridge `topic charging_controllers/+/data/# out 1`, to the
same remote. One paho publisher (QoS 1) publishes every point's 14 CHARX data parameters; one paho subscriber
(QoS 1) on the remote timestamps each arrival. Throughput: a burst as fast as the publisher goes, first send
to last arrival; the burst is whole rounds of every point's data parameters, at most what the head holds for
a subscriber that falls behind (broker.QUEUE), so no QoS 1 message may be lost: messages that never arrive
are counted (`*_lost`), with the drops the bridge reports per broker. The remote stands in for the fleet's
broker: it holds the whole burst for the bench's subscriber (a drop there would be the bench's, not the
bridge's). Latency: a paced stream (RATE messages/s), arrival minus send, p50/p99.
The publisher and subscriber are Python (paho) in this process: near 5000 messages/s they, not the
mosquitto bridges, set the burst figure, so `ours_vs_plain_msgs` says "no slower than plain" rather than a
bridge's ceiling; the paced p99 is the figure that tells the bridges apart (ours has one more broker hop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from chargepark import topics
from chargepark.bridge.service import Bridge
from chargepark.broker import QUEUE, QUEUE_ROUNDS, mosquitto_binary, render_config, start_broker, wait_port
from chargepark.config import ConfigStore
from chargepark.mqtt import MqttLink
from chargepark.procs import start_child, stop_child
from chargepark.runtime import Runtime, free_port
from chargepark.services.mqtt_bridge.spec import SPEC
from figures import figure, write
from paho.mqtt.enums import CallbackAPIVersion

POINTS = 250
PARAMS = tuple(topics.DATA_PARAMS)
RATE = 2500.0  # messages/s in the latency run: each of 250 points publishing 10 parameters a second
ROUND = POINTS * len(PARAMS)  # every point's every data parameter once
QUIET_S = 15.0  # a stream is over when nothing arrived for this long (the rest is lost)


class Receiver:
    """The fleet side: QoS 1 subscriber on the remote, arrival time per sequence number."""

    def __init__(self, port: int, pattern: str) -> None:
        self.arrived: dict[int, float] = {}
        self.done = threading.Event()
        self.want = 0
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-rx-%s" % pattern[:8])
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(pattern, 1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
        self.arrived[int(m.payload)] = time.perf_counter()
        if len(self.arrived) >= self.want:
            self.done.set()

    def expect(self, n: int) -> None:
        self.arrived, self.want = {}, n
        self.done.clear()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def publisher(port: int) -> paho.Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-tx-%d" % port)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def topic_of(seq: int) -> str:
    point, param = divmod(seq % (POINTS * len(PARAMS)), len(PARAMS))
    return topics.charx("pt%03d" % point, PARAMS[param])


def run_stream(tx: paho.Client, rx: Receiver, n: int, rate: float | None) -> dict[str, float]:
    """Publishes n messages (paced at `rate`, or a burst); throughput and latency of their arrival."""
    rx.expect(n)
    sent: list[float] = [0.0] * n
    start = time.perf_counter()
    for seq in range(n):
        if rate is not None:
            due = start + seq / rate
            while time.perf_counter() < due:
                time.sleep(0.0005)
        sent[seq] = time.perf_counter()
        tx.publish(topic_of(seq), str(seq), qos=1)
    seen = -1
    while not rx.done.wait(QUIET_S) and len(rx.arrived) != seen:
        seen = len(rx.arrived)
    arrived = dict(rx.arrived)
    if not arrived:
        raise RuntimeError("none of %d messages arrived" % n)
    lat = sorted((t - sent[s]) * 1000 for s, t in arrived.items())
    return {
        "msgs_per_s": len(arrived) / (max(arrived.values()) - start),
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[int(0.99 * (len(lat) - 1))],
        "lost": n - len(arrived),
    }


async def ours(tmp: Path, remote_port: int) -> tuple[Runtime, Bridge, MqttLink, Any, asyncio.Task[None]]:
    rt = Runtime(data_dir=str(tmp / "ours"), mqtt_port=free_port(), rest_port=0, web_port=0)
    head = await start_broker(rt.run_dir, rt.mqtt_host, rt.mqtt_port, tmp / "ours-head.log")
    rt.save()
    store = ConfigStore.open(rt.config_path)
    row = {"local": "charging_controllers/+/data/#", "remote": "data", "direction": "out"}
    store.put("mqtt_bridge", {"broker": "127.0.0.1", "port": remote_port, "prefix": "bench", "topics": [row]})
    link = MqttLink(rt.mqtt_host, rt.mqtt_port, SPEC)
    await link.connect()
    bridge = Bridge(rt, link, store)
    mods = [{"uid": "pt%03d" % i, "position": 1, "parent_device_uid": "station"} for i in range(POINTS)]
    bridge.on_modules(topics.AGENT_MODULES, json.dumps(mods).encode())
    task = asyncio.create_task(bridge.run())
    deadline = time.monotonic() + 20
    while bridge.state.state != "connected":
        if time.monotonic() > deadline:
            raise RuntimeError("our bridge did not connect: %s" % bridge.state.report())
        await asyncio.sleep(0.05)
    return rt, bridge, link, head, task


async def plain(tmp: Path, remote_port: int) -> tuple[int, asyncio.subprocess.Process]:
    port = free_port()
    conf = tmp / "plain.conf"
    conf.write_text(
        render_config("127.0.0.1", port)
        + "\n".join(["connection plain", "address 127.0.0.1:%d" % remote_port, "remote_clientid plain-bench",
                     "cleansession false", "topic charging_controllers/+/data/# out 1 \"\" plain/", ""])
    )  # fmt: skip
    proc = await start_child([mosquitto_binary(), "-c", str(conf)], tmp / "plain.log")
    await wait_port("127.0.0.1", port, 10, proc)
    return port, proc


async def main_async(quick: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    burst = ROUND * (4 if quick else QUEUE_ROUNDS)
    assert burst <= QUEUE, "the burst must fit what the head holds for the bridge"
    paced = 5_000 if quick else 25_000
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        remote_port = free_port()
        remote_conf = render_config("127.0.0.1", remote_port) + "max_queued_messages %d\n" % (2 * burst)
        (tmp / "remote.conf").write_text(remote_conf)
        remote = await start_child([mosquitto_binary(), "-c", str(tmp / "remote.conf")], tmp / "remote.log")
        await wait_port("127.0.0.1", remote_port, 10, remote)
        rt, bridge, link, head, task = await ours(tmp, remote_port)
        plain_port, plain_proc = await plain(tmp, remote_port)
        await asyncio.sleep(1.0)  # the plain bridge connects
        results: dict[str, dict[str, dict[str, float]]] = {}
        try:
            for name, local_port, pattern in (
                ("ours", rt.mqtt_port, "bench/ev3000/+/data/#"),
                ("plain", plain_port, "plain/#"),
            ):
                rx = Receiver(remote_port, pattern)
                tx = publisher(local_port)
                await asyncio.sleep(0.5)
                results[name] = {
                    "burst": await asyncio.to_thread(run_stream, tx, rx, burst, None),
                    "paced": await asyncio.to_thread(run_stream, tx, rx, paced, RATE),
                }
                tx.loop_stop()
                tx.disconnect()
                rx.close()
            await asyncio.sleep(10.5)  # the head's next $SYS round (sys_interval 10) reaches the bridge
            dropped = bridge.state.report()["dropped_at"]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await link.close()
            for proc in (plain_proc, head, remote):
                await stop_child(proc)
    o, p = results["ours"], results["plain"]
    figures = [
        figure("ours_msgs_per_s", round(o["burst"]["msgs_per_s"]), "msg/s", round(p["burst"]["msgs_per_s"]),
               "plain mosquitto bridge"),
        figure("ours_vs_plain_msgs", round(o["burst"]["msgs_per_s"] / p["burst"]["msgs_per_s"], 3), "x", 1.0,
               "plain mosquitto bridge"),
        figure("ours_p99_ms", round(o["paced"]["p99_ms"], 2), "ms", round(p["paced"]["p99_ms"], 2),
               "plain mosquitto bridge, %d msg/s" % RATE),
        figure("ours_lost", o["burst"]["lost"] + o["paced"]["lost"], "msg",
               p["burst"]["lost"] + p["paced"]["lost"], "plain mosquitto bridge"),
    ]  # fmt: skip
    details = {
        "points": POINTS,
        "params": len(PARAMS),
        "burst": burst,
        "paced": paced,
        "rate": RATE,
        "head_queue": QUEUE,
        "dropped_by_broker": dropped,
        **results,
    }
    return figures, details


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="out/bench/bench_bridge.json")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    figures, details = asyncio.run(main_async(args.quick))
    for f in figures:
        print("%-20s %10s %-5s  (baseline %s: %s)" % (f["name"], f["value"], f["unit"], f["baseline_is"],
                                                     f["baseline"]))  # fmt: skip
    print(json.dumps(details, indent=1))
    return 0 if write(args.out, "bench_bridge", figures, details, args.quick) else 1


if __name__ == "__main__":
    raise SystemExit(main())
