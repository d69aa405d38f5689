"""The services' MQTT link beside aiomqtt (the chosen stack's client) on the data hub's pattern.

    python bench/bench_link.py --out out/bench/bench_link.json [--quick]

A paho feeder publishes a burst of live samples (the same for both); the client under test, in a process
of its own, takes each and publishes OUT messages for it, as the data hub does. Two clients, rounds
alternating which goes first: `chargepark.mqtt.MqttLink`, and aiomqtt used the plain way (`async for`
over its messages, one `publish` task per message, up to WINDOW at once). Reported per client (median of the rounds): samples/s
taken, and the client process's CPU per sample (one message in, OUT out). The ratio is what the link
saves over aiomqtt; `chargepark/mqtt.py` says why that decides the services' link.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as paho
from chargepark import topics
from chargepark.broker import start_broker
from chargepark.procs import stop_child
from chargepark.runtime import free_port
from figures import figure, write
from paho.mqtt.enums import CallbackAPIVersion

OUT = 3  # messages the hub publishes per live sample (bench_rest reports its hub_messages_per_sample)
CLIENTS = ("ours", "aiomqtt")
PARAMS = ("status", "iec_61851_state", "live")[:OUT]
WINDOW = 100  # aiomqtt publishes awaiting their confirmation at once (MqttLink's INFLIGHT is 100 too)


async def take(client: str, port: int, n: int) -> dict[str, float]:
    """`--child`: takes n samples, publishes OUT messages each; its rate and CPU per sample."""
    marks: list[float] = []

    def started() -> None:
        if not marks:
            marks.extend((time.monotonic(), time.process_time()))

    def ready() -> None:
        print("ready", flush=True)

    if client == "ours":
        from chargepark.mqtt import MqttLink
        from chargepark.services.spec import ServiceSpec

        spec = ServiceSpec("bench-link", "bench", "bench", publishes=(topics.CHARX_DATA,),
                           subscribes=(topics.AGENT_LIVE,), client_id="bench-link")  # fmt: skip
        link = MqttLink("127.0.0.1", port, spec)
        await link.connect()
        got, done = [0], asyncio.Event()

        def on(topic: str, payload: bytes) -> None:
            started()
            uid = topic.split("/")[3]
            for p in PARAMS:
                link.publish(topics.charx(uid, p), payload)
            got[0] += 1
            if got[0] == n:
                done.set()

        await link.subscribe(topics.subscription(topics.AGENT_LIVE), on)
        ready()
        await done.wait()
        await link.close(flush_s=60)
    else:
        import aiomqtt

        async with aiomqtt.Client("127.0.0.1", port, identifier="bench-link-aiomqtt") as c:
            c.pending_calls_threshold = WINDOW + 10  # the window's publishes are expected, not a leak
            await c.subscribe(topics.subscription(topics.AGENT_LIVE))
            ready()
            flying: set[asyncio.Task[None]] = set()
            landed = asyncio.Event()

            def land(task: asyncio.Task[None]) -> None:
                flying.discard(task)
                landed.set()

            taken = 0
            async for message in c.messages:
                started()
                payload = message.payload if isinstance(message.payload, bytes) else b""
                uid = message.topic.value.split("/")[3]
                for p in PARAMS:
                    while len(flying) >= WINDOW:
                        landed.clear()
                        await landed.wait()
                    task = asyncio.create_task(c.publish(topics.charx(uid, p), payload, retain=True))
                    flying.add(task)
                    task.add_done_callback(land)
                taken += 1
                if taken == n:
                    break
            await asyncio.gather(*flying)
    wall, cpu = time.monotonic() - marks[0], time.process_time() - marks[1]
    return {"samples_per_s": round(n / wall), "cpu_us_per_sample": round(1e6 * cpu / n, 1)}


def feed(port: int, n: int) -> paho.Client:
    tx = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-link-feeder")
    tx.max_queued_messages_set(0)
    tx.connect("127.0.0.1", port)
    tx.loop_start()
    sample = json.dumps({"uid": "u", "status": 2, "energy": 12345.6, "t": time.time()} | {"k%d" % i: i for i in range(30)})  # fmt: skip
    for i in range(n):
        tx.publish(topics.fill(topics.AGENT_LIVE, uid="u%03d" % (i % 250)), sample)
    return tx


async def run(rounds: int, n: int) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {c: [] for c in CLIENTS}
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        broker = await start_broker(Path(tmp), "127.0.0.1", port, Path(tmp) / "mosquitto.log")
        try:
            for r in range(rounds):
                for client in CLIENTS if r % 2 == 0 else CLIENTS[::-1]:
                    cmd = [sys.executable, __file__, "--child", client, str(port), str(n)]
                    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
                    assert child.stdout is not None
                    if child.stdout.readline().strip() != "ready":
                        raise RuntimeError("the %s client did not start" % client)
                    tx = feed(port, n)
                    line = await asyncio.to_thread(child.stdout.readline)
                    tx.loop_stop()
                    child.wait(60)
                    results[client].append(json.loads(line))
                    print("%-8s %s (load %.1f)" % (client, line.strip(), os.getloadavg()[0]), flush=True)
        finally:
            await stop_child(broker)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        client, port, n = args.child
        print(json.dumps(asyncio.run(take(client, int(port), int(n)))), flush=True)
        return 0
    if args.out is None:
        ap.error("--out is required")
    rounds, n = (2, 5000) if args.quick else (4, 20000)
    results = asyncio.run(run(rounds, n))
    median: dict[str, dict[str, float]] = {
        c: {k: statistics.median(r[k] for r in results[c]) for k in results[c][0]} for c in CLIENTS
    }
    ours, theirs = median["ours"], median["aiomqtt"]
    print("MqttLink %6.0f samples/s, %6.1f us CPU per sample; aiomqtt %6.0f samples/s, %6.1f us (1 in, %d out)"
          % (ours["samples_per_s"], ours["cpu_us_per_sample"], theirs["samples_per_s"],
             theirs["cpu_us_per_sample"], OUT))  # fmt: skip
    figures = [
        figure("samples_per_s", ours["samples_per_s"], "1/s", theirs["samples_per_s"], "aiomqtt"),
        figure("cpu_us_per_sample", ours["cpu_us_per_sample"], "us", theirs["cpu_us_per_sample"], "aiomqtt"),
    ]
    details = {"samples": n, "rounds": rounds, "out_per_sample": OUT, "median": median, "runs": results}
    return 0 if write(args.out, "bench_link", figures, details, args.quick) else 1


if __name__ == "__main__":
    sys.exit(main())
