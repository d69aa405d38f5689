"""`chargepark update`: firmware to modules over the bus, through the running head's controller agent.

The controller agent is the only bus master, so the request goes to it over the local broker and the
progress comes back the same way.
"""

from __future__ import annotations

import json
import queue
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.progress import Progress, TaskID

from chargepark import topics
from chargepark.park import update as park_update
from chargepark.progressbar import label, transfer_progress
from chargepark.runtime import of_data

SUBSCRIBE_S = 10.0  # the broker confirms the progress subscription within this


class UpdateBars:
    """One progress bar per bus position, driven by the controller agent's progress events."""

    def __init__(self, progress: Progress, where: str = "") -> None:
        self.progress = progress
        self.where = where  # "station <uid>, " for a park client's modules
        self.tasks: dict[object, TaskID] = {}

    def _task(self, pos: object, total: int) -> TaskID:
        if pos not in self.tasks:
            self.tasks[pos] = self.progress.add_task(label("%sposition %s" % (self.where, pos)), total=total)
        return self.tasks[pos]

    def show(self, event: dict[str, Any]) -> None:
        pos, state = event.get("position"), event.get("state")
        if state in ("sending", "done"):  # both carry bytes done of the total
            total = int(event["total"])
            self.progress.update(self._task(pos, total), completed=int(event["done"]), total=total)
        if state == "done":
            self.progress.console.print(
                "%sposition %s installed (firmware %s)" % (self.where, pos, event.get("version", "")),
                soft_wrap=True,
            )
        elif state == "failed":
            self.progress.console.print(
                "%sposition %s FAILED: %s" % (self.where, pos, event.get("error")), soft_wrap=True
            )


def run_update(
    data: Path,
    image_dir: Path,
    positions: list[int] | None,
    timeout: float = 600.0,
    station: str = "",
    quiet: float | None = None,
) -> int:
    """Asks this head's agent (or, with `station`, that park client's agent: the image itself goes over
    the park link, park/update.py) to update the modules at `positions`; 0 when all were updated. No
    progress for `quiet` seconds (a client that is away) fails it as the whole `timeout` does."""
    rt = of_data(data)
    if rt is None:
        print("chargepark: no running head in %s" % data, file=sys.stderr)
        return 1
    if not (image_dir / "firmware.img").exists():
        print("chargepark: no firmware.img in %s (build it: scons images)" % image_dir, file=sys.stderr)
        return 1
    rid = secrets.token_hex(6)
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="chargepark-update-" + rid)

    def on_message(c: paho.Client, u: object, msg: paho.MQTTMessage) -> None:
        with_id = json.loads(msg.payload)
        if with_id.get("id") == rid:
            events.put(with_id)

    subscribed = threading.Event()
    client.on_message = on_message
    client.on_subscribe = lambda c, u, mid, codes, props: subscribed.set()
    client.connect(rt.mqtt_host, rt.mqtt_port)
    client.subscribe(topics.AGENT_UPDATE_PROGRESS)
    client.loop_start()
    try:
        if not subscribed.wait(SUBSCRIBE_S):  # the progress is heard before the request goes out
            print("chargepark: the head's broker did not confirm the subscription", file=sys.stderr)
            return 1
        if station:
            topic = topics.fill(topics.AGENT_PARK_UPDATE, uid=station)
            request = park_update.request(rid, station, image_dir, positions)
        else:
            topic = topics.AGENT_UPDATE
            request = {"id": rid, "image_dir": str(image_dir.resolve()), "positions": positions or "all"}
        entry = topics.entry(topic)  # retained and QoS as the topic map says
        client.publish(topic, json.dumps(request), qos=entry.qos, retain=entry.retained).wait_for_publish()
        failed = 0
        deadline = time.monotonic() + timeout
        heard = time.monotonic()
        with transfer_progress(Console()) as progress:
            bars = UpdateBars(progress, "station %s, " % station if station else "")
            while time.monotonic() < deadline and (quiet is None or time.monotonic() - heard < quiet):
                try:
                    event = events.get(timeout=1.0)
                except queue.Empty:
                    continue
                heard = time.monotonic()
                if event.get("state") == "finished":
                    return 1 if failed else 0
                failed += event.get("state") == "failed"
                bars.show(event)
        waited = timeout if time.monotonic() >= deadline else quiet
        print("chargepark: no answer from the controller agent%s within %.0f s"
              % (" of station %s" % station if station else "", waited or 0), file=sys.stderr)  # fmt: skip
        return 1
    finally:
        client.loop_stop()
        client.disconnect()
