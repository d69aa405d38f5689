"""End to end: `chargepark run --sim 2` with a load circuit whose higher-level meter sits on point 1's RS-485
line ("RS-485 connection", manual "WBM - Load Management"). Point 1's IO module reads it beside its own
meter at unit 2 of its simulated line (the building load there plus the park's draw), the controller agent
publishes its reading as the Modbus Client does for a TCP meter, and load management keeps the two vehicles
within the higher-level fuse minus the building load; when the building's load goes away they get their
whole 32 A again; when the higher-level meter stops answering it is published offline and the circuit runs
on the higher-level fuse alone, while the point carrying it charges on with its own meter."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from chargepark import topics
from chargepark.runtime import runtime_path
from chargepark.simpark import SIM_POINT_CONFIG
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.test_head_sim import CHARGEPARK, cli, until
from tests.e2e.test_loadmgmt_sim import get

UIDS = ("CPSIM0001", "CPSIM0002")
UPSTREAM_A = 80
BUILDING_A = 60


@pytest.mark.slow
def test_an_rs485_higher_level_meter_limits_the_points_by_the_building_load(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for uid in UIDS:
        point = dict(SIM_POINT_CONFIG, name=uid, min_current_a=6, max_current_a=32, fallback_current_a=6)
        assert (
            cli(
                "config", "set", "--data", str(data), "--key", uid, "chargepoint", json.dumps(point)
            ).returncode
            == 0
        )
    circuit = {"name": "Garage", "fuse_a": 80, "meter_connection": "rs485", "rs485_point": UIDS[0],
               "upstream_fuse_a": UPSTREAM_A, "points": [{"uid": u} for u in UIDS]}  # fmt: skip
    assert (
        cli(
            "config", "set", "--data", str(data), "--key", "lc1", "loadcircuit", json.dumps(circuit)
        ).returncode
        == 0
    )
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "2", "--no-traffic", "--data", str(data), "--mqtt-port", "0",
         "--rest-port", "0", "--web-port", "0", "--loadmgmt-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, CHARGEPARK_LM_ROUND_S="1"),
    )  # fmt: skip
    readings: list[dict[str, Any]] = []
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="e2e-rs485-meter")
    try:
        rt = until("runtime.json", lambda: json.loads(runtime_path(data).read_text()))

        def signalled() -> list[float]:
            out = []
            for uid in UIDS:
                d = get(
                    rt["rest_port"],
                    "/api/v1.0/charging-controllers/%s/data?param_list=pwm_current_a,status" % uid,
                )
                out.append(float(d["pwm_current_a"]) if d["status"] == "Charging" else 0.0)
            return out

        client.on_message = lambda c, u, m: readings.append(json.loads(m.payload))
        client.connect("127.0.0.1", rt["mqtt_port"])
        client.subscribe(topics.fill(topics.MODBUS_CLIENT_METER, circuit="lc1"))
        client.loop_start()
        until("two points", lambda: len(get(rt["rest_port"], "/api/v1.0/charging-controllers")) == 2, 90)
        # the module reads the meter at unit 2 of its line: online, of the point's type, the building's load
        assert (
            cli("sim", "--data", str(data), "--point", "1", "set", "building_a=%d" % BUILDING_A).returncode
            == 0
        )
        first = until("the higher-level meter read",
                      lambda: (r := readings[-1] if readings else {}) and r["online"] and r["i1_ma"] >= BUILDING_A * 1000 - 1000 and r, 60)  # fmt: skip
        assert (
            first["type"] == "em24"
            and first["circuit"] == "lc1"
            and first["i3_ma"] < BUILDING_A * 1000 + 1000
        )

        for point in ("1", "2"):
            for verb in (["ev", "phases=3", "max_a=32"], ["plug", "cable_a=32"], ["charge"]):
                assert cli("sim", "--data", str(data), "--point", point, *verb).returncode == 0
        room = UPSTREAM_A - BUILDING_A
        shares = until("both charging within the higher-level fuse minus the building",
                       lambda: (s := signalled()) and all(a > 0 for a in s) and sum(s) <= room + 0.2 and s, 60)  # fmt: skip
        assert all(a >= 6 for a in shares), shares
        for _ in range(5):
            assert sum(signalled()) <= room + 0.2
        (lc,) = get(rt["loadmgmt_port"], "/api/v1.0/loadmanagement/load_circuits")
        assert lc["status"]["budget_reason"] == ["higher_level_fuse"] * 3, lc["status"]
        # the meter sees the vehicles too: the building plus what the park draws
        until("the meter sees the park's draw", lambda: readings[-1]["i1_ma"] > BUILDING_A * 1000 + 6000, 30)

        # the building's load goes away: both get their 32 A
        assert cli("sim", "--data", str(data), "--point", "1", "set", "building_a=0").returncode == 0
        until("both at 32 A", lambda: signalled() == [32.0, 32.0], 60)

        # the higher-level meter stops answering: published offline, the circuit on the higher-level fuse
        # alone (noted), the point whose line carries it keeps its own meter and charges on
        assert cli("sim", "--data", str(data), "--point", "1", "fault", "higher_meter_comm").returncode == 0
        until("the meter offline", lambda: readings[-1]["online"] is False, 30)
        until("noted by load management", lambda: any(
            "higher-level meter lost" in n
            for n in get(rt["loadmgmt_port"], "/api/v1.0/loadmanagement/load_circuits")[0]["status"]["notes"]), 20)  # fmt: skip
        # the meter's last readings may still lag the park's draw for a round (lower, the safe side)
        until("both at 32 A on the fuse alone", lambda: signalled() == [32.0, 32.0], 60)
        d = get(
            rt["rest_port"], "/api/v1.0/charging-controllers/%s/data?param_list=error_status_int" % UIDS[0]
        )
        assert int(d["error_status_int"]) == 0, d
    finally:
        client.loop_stop()
        client.disconnect()
        head.terminate()
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
