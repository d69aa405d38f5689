"""`chargepark update`: firmware to modules over the bus, through the running head's controller agent.

The controller agent is the only bus master, so the request goes to it over the local broker and the
progress comes back the same way.
"""

from __future__ import annotations

import json
import queue
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.progress import Progress, TaskID

from chargepark import topics
from chargepark.progressbar import label, transfer_progress
from chargepark.runtime import of_data


class UpdateBars:
    """One progress bar per bus position, driven by the controller agent's progress events."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[object, TaskID] = {}

    def _task(self, pos: object, total: int) -> TaskID:
        if pos not in self.tasks:
            self.tasks[pos] = self.progress.add_task(label("position %s" % pos), total=total)
        return self.tasks[pos]

    def show(self, event: dict[str, Any]) -> None:
        pos, state = event.get("position"), event.get("state")
        if state in ("sending", "done"):  # both carry bytes done of the total
            total = int(event["total"])
            self.progress.update(self._task(pos, total), completed=int(event["done"]), total=total)
        if state == "done":
            self.progress.console.print(
                "position %s installed (firmware %s)" % (pos, event.get("version", "")), soft_wrap=True
            )
        elif state == "failed":
            self.progress.console.print("position %s FAILED: %s" % (pos, event.get("error")), soft_wrap=True)


def run_update(data: Path, image_dir: Path, positions: list[int] | None, timeout: float = 600.0) -> int:
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

    client.on_message = on_message
    client.connect(rt.mqtt_host, rt.mqtt_port)
    client.subscribe(topics.AGENT_UPDATE_PROGRESS)
    client.loop_start()
    try:
        time.sleep(0.2)  # the subscription is in place before the request goes out
        request = {"id": rid, "image_dir": str(image_dir.resolve()), "positions": positions or "all"}
        retain = topics.entry(topics.AGENT_UPDATE).retained  # as the topic map says
        client.publish(topics.AGENT_UPDATE, json.dumps(request), retain=retain).wait_for_publish()
        failed = 0
        deadline = time.monotonic() + timeout
        with transfer_progress(Console()) as progress:
            bars = UpdateBars(progress)
            while time.monotonic() < deadline:
                try:
                    event = events.get(timeout=1.0)
                except queue.Empty:
                    continue
                if event.get("state") == "finished":
                    return 1 if failed else 0
                failed += event.get("state") == "failed"
                bars.show(event)
        print("chargepark: no answer from the controller agent within %.0f s" % timeout, file=sys.stderr)
        return 1
    finally:
        client.loop_stop()
        client.disconnect()
