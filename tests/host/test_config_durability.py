"""`kill -9` of a process writing the configuration store loses no acknowledged write and leaves no
half-written record. The writer is this file run as a script: it prints `TRY <write>` before and `ACK`
after each committed write; the test kills it at random moments, then opens the store and checks."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import chargeschema
import pointconfig
import pytest

ROOT = Path(__file__).resolve().parents[2]
UIDS = ["uid-%d" % i for i in range(1, 5)]


def writes(seed: int):  # type: ignore[no-untyped-def]
    """An endless deterministic sequence of (area, key, partial record) writes."""
    rng = random.Random(seed)
    n = 0
    while True:
        n += 1
        kind = rng.randrange(4)
        if kind == 0:
            uid = rng.choice(UIDS)
            yield (
                "chargepoint",
                uid,
                {"name": "CP " + uid, "max_current_a": rng.randint(10, 80), "location": "w%d" % n},
            )
        elif kind == 1:
            yield (
                "whitelist",
                "TAG%03d" % rng.randrange(300),
                {"name": "user %d" % n, "allow_charging": rng.random() < 0.5},
            )
        elif kind == 2:
            yield (
                "ocpp",
                None,
                {"HeartbeatInterval": rng.randint(10, 86400), "ChargePointSerialNumber": "S%d" % n},
            )
        else:
            # An event-action list makes a larger record, so a kill may land in the middle of its pages.
            uid = rng.choice(UIDS)
            action = {
                **chargeschema.defaults(pointconfig.EVENT_ACTION),
                "event": "plug_connected",
                "action": "lock",
                "timer_ms": n,
            }
            actions = [action] * rng.randint(1, 32)
            yield ("chargepoint", uid, {"name": "CP " + uid, "event_actions": actions})


def writer(path: str, seed: int) -> None:
    from chargepark.config import ConfigStore

    store = ConfigStore.open(path)
    out = sys.stdout
    for area, key, data in writes(seed):
        out.write("TRY %s\n" % json.dumps([area, key, data]))
        out.flush()
        store.put(area, data, key)
        out.write("ACK\n")
        out.flush()


def _expected(store_get, area: str, key: str | None, data: dict) -> bool:  # type: ignore[no-untyped-def]
    record = store_get(area, key)
    return record is not None and all(record[k] == v for k, v in data.items())


@pytest.mark.slow
def test_kill_9_during_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    from chargepark.config import AREAS, ConfigStore

    db = tmp_path / "config.db"
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "firmware_mpy"), str(ROOT / "host_cpython")])
    )
    rng = random.Random(1)
    acked: dict[tuple[str, str | None], dict] = {}
    total_acks = kills_mid_write = 0
    deadline = time.monotonic() + 90  # 40 rounds take ~15 s on a quiet machine
    rounds = 0
    while rounds < 40 and time.monotonic() < deadline:
        rounds += 1
        proc = subprocess.Popen(
            [sys.executable, __file__, str(db), str(rounds)], stdout=subprocess.PIPE, env=env, cwd=str(ROOT)
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # its first write begins (start-up is slow on a loaded machine)
        time.sleep(rng.uniform(0.05, 0.4))  # then a few hundred writes
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        pending = None
        round_acked: dict[tuple[str, str | None], dict] = {}
        lines = (first + proc.stdout.read()).decode().split("\n")
        for i, line in enumerate(lines):
            if line.startswith("TRY ") and i == len(lines) - 1:
                pending = None  # killed while announcing it: the write itself had not begun
            elif line.startswith("TRY "):
                pending = json.loads(line[4:])
            elif line == "ACK":
                assert pending is not None
                area, key, data = pending
                round_acked[(area, key)] = {**round_acked.get((area, key), {}), **data}
                total_acks += 1
                pending = None
        proc.stdout.close()
        kills_mid_write += pending is not None
        store = ConfigStore.open(db)  # refuses a damaged or invalid record: see _verify
        for (area, key), data in round_acked.items():
            acked[(area, key)] = {**acked.get((area, key), {}), **data}
        for (area, key), data in acked.items():
            if pending is not None and (pending[0], pending[1]) == (area, key):
                # The write in flight may or may not have committed: either the acknowledged or it.
                assert _expected(store.get, area, key, data) or _expected(store.get, area, key, pending[2])
                if _expected(store.get, area, key, pending[2]):
                    acked[(area, key)] = {**data, **pending[2]}
            else:
                assert _expected(store.get, area, key, data), (area, key, data, store.get(area, key))
        for spec in AREAS.values():
            records = store.get(spec.name)
            for record in records.values() if spec.keyed else [records]:
                spec.validate(record)
        store.close()
    print(
        "rounds %d, acknowledged writes %d, kills during a write %d" % (rounds, total_acks, kills_mid_write)
    )
    assert rounds >= 15 and total_acks > 500 and kills_mid_write > 0, (rounds, total_acks, kills_mid_write)


if __name__ == "__main__":
    writer(sys.argv[1], int(sys.argv[2]))
