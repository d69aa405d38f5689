"""Helpers for head tests: a real mosquitto on an ephemeral port, a paho client collecting messages."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
from chargepark.broker import start_broker
from chargepark.procs import stop_child
from chargepark.runtime import Runtime, free_port
from paho.mqtt.enums import CallbackAPIVersion


class Collector:
    """A real paho client on its own thread, remembering the last payload per topic."""

    def __init__(self, port: int, pattern: str = "#") -> None:
        self.last: dict[str, bytes] = {}
        self.count = 0
        self._lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id="test-collector-%d" % time.monotonic_ns()
        )
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(pattern)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.last[msg.topic] = bytes(msg.payload)
            self.count += 1

    def wait_for(
        self, predicate: Callable[[dict[str, bytes]], bool], timeout: float = 10.0
    ) -> dict[str, bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = dict(self.last)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.05)
        raise AssertionError(
            "condition not met in %.0f s; topics seen: %s" % (timeout, sorted(self.last)[:40])
        )

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


async def broker_runtime(data: Path) -> tuple[Runtime, asyncio.subprocess.Process]:
    rt = Runtime(data_dir=str(data), mqtt_port=free_port(), rest_port=free_port(), web_port=free_port())
    proc = await start_broker(rt.run_dir, rt.mqtt_host, rt.mqtt_port, data / "logs" / "mosquitto.log")
    return rt, proc


async def stop(proc: asyncio.subprocess.Process) -> None:
    await stop_child(proc)
