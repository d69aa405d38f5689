"""kill -9 of the running data hub service while sessions change: every acknowledged session write stays.

The data hub acknowledges a session write by announcing it on `applications/jupicore/sessions/<uid>`,
which it does only after the write is committed. Here a real broker, the real jupicore service under the
supervisor, vehicles plugging in and out at 16 points, and repeated `kill -9` of the service. Each kill
waits for the restarted service to acknowledge writes of its own (no count within a fixed time: a loaded
machine only makes the test slower).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
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


KILLS = 3
WAIT_S = 60.0  # generous: under a loaded full suite a restart (backoff + interpreter start) is slow


async def until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.0f s" % (what, timeout))
        await asyncio.sleep(0.05)


@pytest.mark.slow
def test_kill_9_of_jupicore_during_session_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    acks: list[tuple[float, dict[str, object]]] = []  # (arrival, announcement)
    lock = threading.Lock()

    def acked_since(t: float) -> int:
        with lock:
            return sum(1 for arrived, _ in acks if arrived > t)

    async def traffic(client: paho.Client) -> None:
        """Every point changes state every 0.1 s: plugged (B1), charging (C2), gone (A1), with the
        module's session events at plug-in and unplug (the module is the session authority)."""
        step = 0
        plugged: set[str] = set()  # a point that starts mid-cycle was never plugged in: no stop
        while True:
            for k in range(POINTS):
                uid, phase = "K%02d" % k, (step + k) % 4
                iec = ("B1", "C2", "C2", "A1")[phase]
                if phase == 0 or (phase == 3 and uid in plugged):  # the event before the sample, as the agent
                    (plugged.add if phase == 0 else plugged.discard)(uid)
                    event = {"event": "session_start", "arg": [step, step]} if phase == 0 else {
                        "event": "session_stop", "arg": [step, step, 3, 3, 2, cd.STOP_REASONS.index("ev_disconnected")]}  # fmt: skip
                    client.publish(topics.fill(topics.AGENT_EVENT, uid=uid), json.dumps(event))
                live = {"iec_state": cd.IEC_STATES.index(iec), "status": 2 if iec == "C2" else 1 if iec == "B1" else 0,
                        "energy_wh": step, "connected_s": phase + 1 if phase < 3 else 0, "uid": uid,
                        "position": k % 12 + 1, "online": True}  # fmt: skip
                client.publish(topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(live))
            step += 1
            await asyncio.sleep(0.1)

    async def scenario() -> None:
        rt, broker = await broker_runtime(tmp_path)
        rt.save()
        sup = Supervisor(rt, SERVICES, only={"jupicore"})
        await sup.start()
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id="kill-test")

        def on_message(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
            with lock:
                acks.append((time.monotonic(), json.loads(m.payload)))

        client.on_message = on_message
        client.on_connect = lambda c, u, f, rc, p: c.subscribe(topics.subscription(topics.SESSION_EVENT))
        client.connect("127.0.0.1", rt.mqtt_port)
        client.loop_start()
        driver = asyncio.create_task(traffic(client))
        run = sup.runs["jupicore"]
        try:
            for kill in range(KILLS):
                # Kill a run that is writing: it has announced writes of its own, and a few more are due.
                await until(lambda k=kill: run.state == "running" and run.restarts == k, "restart %d" % kill)
                started = run.started_at
                await until(lambda t=started: acked_since(t) >= 5, "writes acknowledged by run %d" % kill)
                await asyncio.sleep(0.3 + 0.05 * kill)  # land anywhere in the hub's flush cycle
                assert run.proc is not None
                os.kill(run.proc.pid, signal.SIGKILL)
            await until(lambda: run.state == "running" and run.restarts == KILLS, "the last restart")
            last_start = time.monotonic()
            await until(lambda: acked_since(last_start) >= 5, "writes acknowledged after the last restart")
        finally:
            driver.cancel()
            client.loop_stop()
            client.disconnect()
            await sup.stop()
            await stop(broker)
        assert run.restarts == KILLS

    asyncio.run(scenario())
    db = sqlite3.connect(str(tmp_path / "sessions.db"))
    starts = {(uid, started) for uid, started in db.execute("SELECT uid, started FROM sessions")}
    stops = {
        (uid, ended) for uid, ended in db.execute("SELECT uid, ended FROM sessions WHERE ended IS NOT NULL")
    }
    db.close()
    assert sum(1 for _, a in acks if a["kind"] == "stop") > 50
    for _, a in acks:
        if a["kind"] == "start":
            assert (a["uid"], a["at"]) in starts, a
        elif a["kind"] == "stop":
            assert (a["uid"], a["at"]) in stops, a
