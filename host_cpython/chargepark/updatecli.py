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
from typing import Any, TextIO

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from chargepark import topics
from chargepark.runtime import load

BAR = 30


def bar(done: int, total: int) -> str:
    filled = BAR * done // total if total else 0
    return "[%s%s] %3d%%" % ("#" * filled, "." * (BAR - filled), 100 * done // total if total else 0)


def render(event: dict[str, Any], out: TextIO, tty: bool) -> None:
    pos, state = event.get("position"), event.get("state")
    if state == "sending":
        if tty:
            out.write("\rposition %s %s" % (pos, bar(int(event["done"]), int(event["total"]))))
    elif state == "done":
        out.write(
            "%sposition %s %s installed (firmware %s)\n"
            % ("\r" if tty else "", pos, bar(1, 1), event.get("version", ""))
        )
    elif state == "failed":
        out.write("%sposition %s FAILED: %s\n" % ("\n" if tty else "", pos, event.get("error")))
    out.flush()


def run_update(data: Path, image_dir: Path, positions: list[int] | None, timeout: float = 600.0) -> int:
    rt = (
        load(str(Path(data) / "run" / "runtime.json"))
        if (Path(data) / "run" / "runtime.json").exists()
        else None
    )
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
        client.publish(topics.AGENT_UPDATE, json.dumps(request)).wait_for_publish()
        failed = 0
        deadline = time.monotonic() + timeout
        tty = sys.stdout.isatty()
        while time.monotonic() < deadline:
            try:
                event = events.get(timeout=1.0)
            except queue.Empty:
                continue
            if event.get("state") == "finished":
                return 1 if failed else 0
            failed += event.get("state") == "failed"
            render(event, sys.stdout, tty)
        print("chargepark: no answer from the controller agent within %.0f s" % timeout, file=sys.stderr)
        return 1
    finally:
        client.loop_stop()
        client.disconnect()
