"""kill -9 of the running data hub service while sessions change: every acknowledged session write stays.

The data hub acknowledges a session write by announcing it on `applications/jupicore/sessions/<uid>`,
which it does only after the write is committed. Here a real broker, the real jupicore service under the
supervisor, vehicles plugging in and out at 16 points, and repeated `kill -9` of the service.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import chargedefs as cd
import paho.mqtt.client as paho
import pytest
from chargepark import topics
from chargepark.services.registry import SERVICES
from chargepark.supervisor import Supervisor
from headkit import broker_runtime, stop
from paho.mqtt.enums import CallbackAPIVersion

POINTS = 16


@pytest.mark.slow
def test_kill_9_of_jupicore_during_session_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    acks: list[dict[str, object]] = []
    lock = threading.Lock()

    async def scenario() -> None:
        rt, broker = await broker_runtime(tmp_path)
        rt.save()
        sup = Supervisor(rt, SERVICES, only={"jupicore"})
        await sup.start()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="kill-test")

        def on_message(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
            with lock:
                acks.append(json.loads(m.payload))

        client.on_message = on_message
        client.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.subscription(topics.SESSION_EVENT))
        client.connect("127.0.0.1", rt.mqtt_port)
        client.loop_start()
        try:
            kills = 0
            step = 0
            next_kill = time.monotonic() + 2.0
            while kills < 3:
                # Every point changes state every 0.1 s: plugged (B1), charging (C2), gone (A1).
                for k in range(POINTS):
                    iec = ("B1", "C2", "C2", "A1")[(step + k) % 4]
                    live = {"iec_state": cd.IEC_STATES.index(iec), "status": 2 if iec == "C2" else 1 if iec == "B1" else 0,
                            "energy_wh": step, "uid": "K%02d" % k, "position": k % 12 + 1, "online": True}  # fmt: skip
                    client.publish(topics.fill(topics.AGENT_LIVE, uid="K%02d" % k), json.dumps(live))
                step += 1
                await asyncio.sleep(0.1)
                run = sup.runs["jupicore"]
                if time.monotonic() > next_kill and run.state == "running" and run.proc is not None:
                    await asyncio.sleep(0.05 * (kills % 5))  # land anywhere in the hub's flush cycle
                    os.kill(run.proc.pid, signal.SIGKILL)
                    kills += 1
                    next_kill = time.monotonic() + 2.5
            deadline = time.monotonic() + 10
            run = sup.runs["jupicore"]
            while (run.restarts, run.state) != (3, "running") and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)  # the last run flushes and announces
        finally:
            client.loop_stop()
            client.disconnect()
            await sup.stop()
            await stop(broker)
        assert sup.runs["jupicore"].restarts == 3

    asyncio.run(scenario())
    db = sqlite3.connect(str(tmp_path / "sessions.db"))
    starts = {(uid, started) for uid, started in db.execute("SELECT uid, started FROM sessions")}
    stops = {
        (uid, ended) for uid, ended in db.execute("SELECT uid, ended FROM sessions WHERE ended IS NOT NULL")
    }
    db.close()
    assert sum(1 for a in acks if a["kind"] == "stop") > 50
    for a in acks:
        if a["kind"] == "start":
            assert (a["uid"], a["at"]) in starts, a
        elif a["kind"] == "stop":
            assert (a["uid"], a["at"]) in stops, a
