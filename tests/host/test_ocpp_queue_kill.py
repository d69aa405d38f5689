"""The OCPP transaction queue under `kill -9`: a writer process queues transactions (start, meter values,
stop) and reports each one once committed, a deliverer process drains the queue to a recording "backend"
(fsynced before `delivered`); both are killed at random moments, again and again. Afterwards every
acknowledged message is found, in order, each delivered exactly once except the one in flight at a kill
(re-sent with the same message id, so a backend can drop it), and transaction ids are mapped."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

WRITER = r"""
import sys
from chargepark.ocpp.txqueue import TxQueue
q = TxQueue(sys.argv[1])
n = int(sys.argv[2])
while True:
    ref = q.start("CP", n, 1, "TAG", n * 10, "2026-01-01T00:00:00Z")
    q.meter_values(ref, 1, [{"timestamp": "t", "sampledValue": [{"value": str(n)}]}])
    q.stop(ref, n * 10 + 5, "2026-01-01T00:00:01Z", "EVDisconnected")
    print(n, flush=True)
    n += 1
"""

DELIVERER = r"""
import json, os, sys
from chargepark.ocpp.txqueue import TxQueue
q = TxQueue(sys.argv[1])
out = open(sys.argv[2], "a")
tx = int(sys.argv[3])
while True:
    m = q.head()
    if m is None:
        continue
    out.write(json.dumps([m.unique_id, m.action, m.payload]) + "\n"); out.flush(); os.fsync(out.fileno())
    answer = {"transactionId": tx} if m.action == "StartTransaction" else {}
    tx += m.action == "StartTransaction"
    q.delivered(m, answer)
"""


def _kill_after(proc: subprocess.Popen[str], seconds: float) -> None:
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_queue_survives_kill_9_of_writer_and_deliverer(tmp_path: Path) -> None:
    db, log = tmp_path / "q.db", tmp_path / "backend.jsonl"
    env = dict(os.environ)
    rng = random.Random(15)
    acked: list[int] = []
    next_n = 1
    for _ in range(8):
        w = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(next_n)], stdout=subprocess.PIPE, text=True, env=env
        )
        _kill_after(w, rng.uniform(0.3, 0.8))
        acked += [int(x) for x in (w.stdout.read() if w.stdout else "").split()]
        next_n = (
            max([next_n - 1, *acked]) + 2
        )  # the transaction whose writes were cut keeps its part; the next gets a fresh number
    assert len(acked) >= 20
    tx_base = 5000
    for _ in range(8):
        lines = log.read_text().splitlines() if log.exists() else []
        started = sum(json.loads(x)[1] == "StartTransaction" for x in lines)
        d = subprocess.Popen(
            [sys.executable, "-c", DELIVERER, str(db), str(log), str(tx_base + started)], env=env
        )
        _kill_after(d, rng.uniform(0.2, 0.5))
    d = subprocess.Popen([sys.executable, "-c", DELIVERER, str(db), str(log), "0"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if sqlite3.connect(db).execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0:
            break
        time.sleep(0.1)
    d.send_signal(signal.SIGKILL)
    d.wait()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    got = [json.loads(x) for x in log.read_text().splitlines()]
    unique: list[list[object]] = []
    for uid, action, payload in got:
        if unique and unique[-1][0] == uid:
            continue  # the message in flight at a kill, re-sent with its id
        unique.append([uid, action, payload])
    assert len({u[0] for u in unique}) == len(unique), (
        "a message was delivered twice apart from a kill's re-send"
    )
    starts = [p["meterStart"] // 10 for _u, a, p in unique if a == "StartTransaction"]
    for n in acked:
        assert n in starts, "acknowledged transaction %d lost" % n
    assert starts == sorted(starts)
    for i, (_u, action, payload) in enumerate(
        unique
    ):  # an acknowledged transaction: start, meter values, stop
        if action == "StartTransaction" and payload["meterStart"] // 10 in acked:  # type: ignore[index]
            mv, stop = unique[i + 1], unique[i + 2]
            assert (mv[1], stop[1]) == ("MeterValues", "StopTransaction")
            assert mv[2]["transactionId"] == stop[2]["transactionId"] is not None  # type: ignore[index]
            assert stop[2]["meterStop"] == payload["meterStart"] + 5  # type: ignore[index]
