"""kill -9 during session writes loses no acknowledged write (the data hub's SessionStore)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from chargepark.datahub.sessions import SessionStore

ROOT = Path(__file__).resolve().parents[2]
UIDS = 4
CYCLE = ("start", "update", "update", "update", "stop")

# The writer: op number n is fully determined by n, so a restarted writer simply continues at n.
WRITER = """
import sys
from pathlib import Path
from chargepark.datahub.sessions import Op, SessionStore
CYCLE = %r
store = SessionStore(Path(sys.argv[1]))
n = int(sys.argv[2])
while True:
    kind = CYCLE[n %% len(CYCLE)]
    uid = "u%%d" %% ((n // len(CYCLE)) %% %d)
    store.apply([Op(kind, uid, float(n), energy_wh=n, meter_wh=n, id_tag="tag%%d" %% n, reason="EVDisconnected", seq=n)])
    sys.stdout.write("%%d\\n" %% n)
    sys.stdout.flush()
    n += 1
""" % (CYCLE, UIDS)


def op_of(n: int) -> tuple[str, str]:
    return CYCLE[n % len(CYCLE)], "u%d" % ((n // len(CYCLE)) % UIDS)


def test_kill_9_during_session_updates_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    rng = random.Random(7)
    acked: list[int] = []
    kills = 0
    env = {"PYTHONPATH": "%s:%s" % (ROOT / "host_cpython", ROOT / "firmware_mpy")}
    while kills < 25:
        start = acked[-1] + 1 if acked else 0
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(start)], stdout=subprocess.PIPE, env=env
        )
        assert proc.stdout is not None
        target = rng.randint(3, 60)  # acknowledged writes in this run before the kill
        got = 0
        while got < target:
            line = proc.stdout.readline()
            assert line, "writer died on its own"
            acked.append(int(line))
            got += 1
        time.sleep(rng.random() * 0.01)  # land the kill anywhere in the next write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for line in proc.stdout.read().split():  # acknowledged before the kill landed
            acked.append(int(line))
        kills += 1

    store = SessionStore(db)
    rows = store.recent(limit=100000)
    store.close()
    assert len(acked) > 300
    for uid in ("u%d" % k for k in range(UIDS)):
        mine = [n for n in acked if op_of(n)[1] == uid]
        starts = sum(1 for n in mine if op_of(n)[0] == "start")
        stops = sum(1 for n in mine if op_of(n)[0] == "stop")
        sessions = [r for r in rows if r["uid"] == uid]
        assert len(sessions) >= starts
        assert sum(1 for r in sessions if r["ended"] is not None and r["reason"] == "EVDisconnected") >= stops
        # The newest session holds the last acknowledged write of this point (or a later one).
        newest = max(sessions, key=lambda r: r["id"])
        assert newest["seq"] >= mine[-1]
        # Every acknowledged update/stop is in its session: the session that a start at s opened holds
        # the values of the last acknowledged write of its cycle.
        for n in mine:
            kind, _ = op_of(n)
            if kind == "stop":
                cycle_start = n - (len(CYCLE) - 1)
                row = next(
                    r for r in sessions if r["started"] == float(cycle_start) and r["ended"] == float(n)
                )
                assert row["energy_wh"] == n and row["id_tag"] == "tag%d" % n
