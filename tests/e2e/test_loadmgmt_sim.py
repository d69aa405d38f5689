"""End to end: `chargepark run --sim 3` with one load circuit of 40 A over its three points. Three 3-phase
vehicles that would each take 32 A get set-points that add up to at most 40 A per phase (through the
controller agent to the IO modules, which signal them on the PWM); the CHARX load management REST and the
MQTT status say the circuit is limiting and why each point is limited; when one vehicle leaves, the other
two share the whole fuse. OCPP limits reach a member and a point in no circuit through load management (the
one set-point path); a member's phase contactor switches to one phase without a current flowing."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import chargedefs as cd
import paho.mqtt.client as paho
import pytest
from chargepark import topics
from chargepark.runtime import runtime_path
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.test_head_sim import CHARGEPARK, cli, until

UIDS = ("CPSIM0001", "CPSIM0002", "CPSIM0003")
FUSE_A = 40


def get(port: int, path: str) -> Any:
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_a_40_a_fuse_limits_three_charging_points(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for uid in UIDS:
        point = {
            "name": uid,
            "min_current_a": 6,
            "max_current_a": 32,
            "fallback_current_a": 6,
            "release_mode": "permanent",
        }
        assert (
            cli(
                "config", "set", "--data", str(data), "--key", uid, "chargepoint", json.dumps(point)
            ).returncode
            == 0
        )
    circuit = {"name": "Garage", "fuse_a": FUSE_A, "points": [{"uid": u} for u in UIDS]}
    assert (
        cli(
            "config", "set", "--data", str(data), "--key", "lc1", "loadcircuit", json.dumps(circuit)
        ).returncode
        == 0
    )
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "3", "--no-traffic", "--data", str(data), "--mqtt-port", "0",
         "--rest-port", "0", "--web-port", "0", "--loadmgmt-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, CHARGEPARK_LM_ROUND_S="1"),
    )  # fmt: skip
    try:
        rt = until("runtime.json", lambda: json.loads(runtime_path(data).read_text()))

        def signalled() -> dict[str, float]:
            out = {}
            for uid in UIDS:
                d = get(
                    rt["rest_port"],
                    "/api/v1.0/charging-controllers/%s/data?param_list=pwm_current_a,status" % uid,
                )
                out[uid] = float(d["pwm_current_a"]) if d["status"] == "Charging" else 0.0
            return out

        until("three points", lambda: len(get(rt["rest_port"], "/api/v1.0/charging-controllers")) == 3, 90)
        for point in ("1", "2", "3"):
            for verb in (["ev", "phases=3", "max_a=32"], ["plug", "cable_a=32"], ["charge"]):
                assert cli("sim", "--data", str(data), "--point", point, *verb).returncode == 0
        # a point that joins is raised only into what the others' committed set-points leave free:
        # wait for the equal shares the rounds settle on
        shares = until("three charging at equal shares",
                       lambda: (s := signalled()) and all(12.5 <= a <= 13.4 for a in s.values()) and s, 90)  # fmt: skip
        # once settled, every sample of the signalled currents stays within the fuse
        for _ in range(10):
            s = signalled()
            assert sum(s.values()) <= FUSE_A + 0.1, s
        assert all(12.5 <= a <= 13.4 for a in shares.values()), shares

        circuits = get(rt["loadmgmt_port"], "/api/v1.0/loadmanagement/load_circuits")
        (lc,) = circuits
        assert lc["id"] == "lc1" and lc["fuse"] == FUSE_A and lc["charging_points"] == list(UIDS)
        assert lc["status"]["limiting"] and lc["status"]["monitored"] == 3
        assert max(lc["status"]["phase_planned_a"]) <= FUSE_A
        why = get(rt["loadmgmt_port"], "/api/v1.0/loadmanagement/charging_controllers/CPSIM0001/limit")
        assert why["reason"] == "load_circuit" and why["circuit"] == "lc1"

        # one vehicle leaves: the other two share the fuse (20 A each) within a few rounds
        assert cli("sim", "--data", str(data), "--point", "3", "unplug").returncode == 0
        until("two share the fuse", lambda: (s := signalled()) and s["CPSIM0003"] == 0
              and all(19.5 <= s[u] <= 20.0 for u in UIDS[:2]) and s, 30)  # fmt: skip
    finally:
        head.terminate()
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()


@pytest.mark.slow
def test_ocpp_limits_reach_every_point_through_load_management_and_a_phase_switch(tmp_path: Path) -> None:
    """The one set-point path on a real head: a retained OCPP limit (as the OCPP service publishes it) caps
    a member of a load circuit and a point in none; the member's phase contactor (its circuit entry) reaches
    its IO module, which switches to one phase on the `phases` command without a current flowing."""
    data = tmp_path / "data"
    data.mkdir()
    for uid in UIDS[:2]:
        point = {"name": uid, "min_current_a": 6, "max_current_a": 32, "release_mode": "permanent"}
        assert (
            cli(
                "config", "set", "--data", str(data), "--key", uid, "chargepoint", json.dumps(point)
            ).returncode
            == 0
        )
    entry = {"uid": UIDS[0], "phase_switch_output": 2, "phase_switch_pause_s": 1, "phase_switch_hold_s": 10}
    circuit = {"name": "Garage", "fuse_a": 63, "points": [entry]}
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
    live: dict[str, dict[str, Any]] = {}
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="e2e-lm-limits")
    try:
        rt = until("runtime.json", lambda: json.loads(runtime_path(data).read_text()))

        def signalled(uid: str) -> float:
            d = get(rt["rest_port"], "/api/v1.0/charging-controllers/%s/data?param_list=pwm_current_a" % uid)
            return float(d["pwm_current_a"])

        def why(uid: str) -> dict[str, Any]:
            return dict(
                get(rt["loadmgmt_port"], "/api/v1.0/loadmanagement/charging_controllers/%s/limit" % uid)
            )

        until("two points", lambda: len(get(rt["rest_port"], "/api/v1.0/charging-controllers")) == 2, 90)
        for point in ("1", "2"):
            for verb in (["ev", "phases=3", "max_a=32"], ["plug", "cable_a=32"], ["charge"]):
                assert cli("sim", "--data", str(data), "--point", point, *verb).returncode == 0
        until("both at 32 A", lambda: signalled(UIDS[0]) == 32 and signalled(UIDS[1]) == 32, 60)

        client.on_message = lambda c, u, m: live.update({json.loads(m.payload)["uid"]: json.loads(m.payload)})
        client.connect("127.0.0.1", rt["mqtt_port"])
        client.subscribe(topics.subscription(topics.AGENT_LIVE))
        client.loop_start()
        for uid, ma, reason in ((UIDS[0], 10000, "max_current"), (UIDS[1], 8000, "tx_profile")):
            client.publish(topics.fill(topics.OCPP_LIMIT, uid=uid), json.dumps({"ma": ma, "reason": reason}),
                           retain=True)  # fmt: skip
        until("the OCPP limits signalled", lambda: signalled(UIDS[0]) == 10 and signalled(UIDS[1]) == 8, 30)
        assert why(UIDS[0])["reason"] == "ocpp_max_current" and why(UIDS[0])["circuit"] == "lc1"
        assert why(UIDS[1])["reason"] == "ocpp_profile" and why(UIDS[1])["circuit"] is None

        # one phase through the phase contactor: PWM off, contactor open, switch, charging again
        client.publish(topics.fill(topics.AGENT_COMMAND, uid=UIDS[0]),
                       json.dumps({"id": "p1", "name": "phases", "value": 1}))  # fmt: skip
        until("switching", lambda: live.get(UIDS[0], {}).get("flags", 0) & cd.FLAG_PHASE_SWITCHING, 20)
        assert not live[UIDS[0]]["contactor"] or live[UIDS[0]]["set_current_ma"] == 0
        until("one phase, charging again",
              lambda: (s := live.get(UIDS[0], {})) and s["flags"] & cd.FLAG_ONE_PHASE
              and not s["flags"] & cd.FLAG_PHASE_SWITCHING and s["contactor"], 40)  # fmt: skip
        client.publish(topics.fill(topics.OCPP_LIMIT, uid=UIDS[1]), json.dumps({"ma": None}), retain=True)
        until("point 2's limit lifted", lambda: signalled(UIDS[1]) == 32, 30)
    finally:
        client.loop_stop()
        client.disconnect()
        head.terminate()
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
