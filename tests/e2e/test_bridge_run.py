"""End to end: `chargepark run --sim 2` with the MQTT bridge configured (through `chargepark config`, the way
the WBM will store it) forwards both simulated points' status to a second real mosquitto, below the
station found on the bus, with the station config; the state topic says connected."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "host"))
from bridgekit import PASSWORD, USER, remote_client, remote_in_thread

from tests.e2e.test_head_sim import cli, until
from tests.e2e.test_rest_control import UID, start_head, stop_head


@pytest.mark.slow
def test_a_running_head_bridges_its_points_to_the_remote_broker(tmp_path: Path) -> None:
    remote, loop = remote_in_thread(tmp_path / "remote")
    data = tmp_path / "data"
    data.mkdir()
    area = {"broker": "127.0.0.1", "port": remote.port, "user": USER, "password": PASSWORD, "prefix": "fleet",
            "station_name": "Bench 1", "location": "Lab",
            "topics": [{"local": "charging_controllers/+/data/status", "remote": "status", "direction": "out"},
                       {"local": "applications/mqtt-bridge/state", "remote": "bridge", "direction": "out"}]}  # fmt: skip
    out = cli("config", "--data", str(data), "set", "mqtt_bridge", json.dumps(area))
    assert out.returncode == 0, out.stdout + out.stderr
    got: list[tuple[str, bytes, bool]] = []
    fleet = remote_client(remote.port, "fleet-e2e", "fleet/#", got)
    head, _ = start_head(data)
    try:
        topics = lambda: {t for t, _, _ in got}  # noqa: E731
        want = {"fleet/ev3000/%s/status" % uid for uid in (UID, "CPSIM0002")}
        until("both points' status on the remote", lambda: want <= topics(), 60)
        config = [json.loads(p) for t, p, _ in got if t.endswith("/config")]
        assert config and config[-1]["name"] == "Bench 1" and config[-1]["id"]
        until("connected reported", lambda: "connected" in [json.loads(p)["state"] for t, p, _ in got
                                                            if t.endswith("/bridge")], 20)  # fmt: skip
    finally:
        stop_head(head)
        fleet.loop_stop()
        fleet.disconnect()
        asyncio.run_coroutine_threadsafe(remote.stop(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
