"""End to end: JupiCore REST writes move a real simulated point (`chargepark run --sim 2`, micropython
modules, mosquitto, the services). The issue's done-when: a PUT `charge_enable: false` stops a charging EV
within 1 s and `true` resumes it; the value persists across a restart of the head (and is applied to the
module again); bad bodies are refused with a JSON 4xx and nothing is stored."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from chargepark import simctl
from chargepark.runtime import runtime_path

from tests.e2e.test_head_sim import CHARGEPARK, cli, until

UID = "CPSIM0001"


def start_head(data: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    runtime_path(data).unlink(missing_ok=True)
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "2", "--no-traffic", "--data", str(data),
         "--mqtt-port", "0", "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    rt = until("runtime.json", lambda: json.loads(runtime_path(data).read_text()))
    return head, rt


def stop_head(head: subprocess.Popen[str]) -> None:
    head.send_signal(signal.SIGINT)
    out, _ = head.communicate(timeout=60)
    assert head.returncode == 0, out


def rest(rt: dict[str, Any], method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1.0%s" % (rt["rest_port"], path), data, method=method,
                                 headers={"content-type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def module(data: Path) -> dict[str, Any]:
    endpoint = simctl.load_endpoints(data)[1]["sim_control"]
    return simctl.request(endpoint, {"cmd": "state"})["point"]


def charging(data: Path) -> bool:
    p = module(data)
    return bool(p["contactor"]) and p["status_name"] == "Charging"


def car_charges(data: Path) -> None:
    for verb in ("plug", "charge"):
        out = cli("sim", "--data", str(data), "--point", "1", verb)
        assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_control_writes_move_the_point_persist_and_bad_bodies_store_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    head, rt = start_head(data)
    try:
        until("point 1 online", lambda: rest(rt, "GET", "/charging-controllers/%s/data?param_list=bus_state" % UID)
              == (200, {"bus_state": "online"}))  # fmt: skip
        car_charges(data)
        until("the EV charges", lambda: charging(data), 30)

        t0 = time.monotonic()
        assert rest(rt, "PUT", "/charging-controllers/%s/control" % UID, {"charge_enable": False})[0] == 200
        until("the EV stopped", lambda: not module(data)["contactor"], 5)
        stopped_s = time.monotonic() - t0
        assert stopped_s < 1.0, "charge_enable false took %.2f s to open the contactor" % stopped_s
        assert module(data)["enabled"] == 0

        t0 = time.monotonic()
        assert rest(rt, "PUT", "/charging-controllers/%s/control" % UID, {"charge_enable": True})[0] == 200
        until("the EV charges again", lambda: charging(data), 30)
        resumed_s = time.monotonic() - t0

        # Bad bodies: a JSON 4xx naming the field, nothing stored, the point untouched.
        for body, status in ((b"{nope", 400), ({"charge_enable": "false"}, 422), ({"no_such": True}, 422),
                             (b"[]", 422), (b'{"charge_enable": false, "pad": "' + b"x" * 100_000 + b'"}', 413),
                             ({"external_release": False}, 409)):  # fmt: skip
            got, answer = rest(rt, "PUT", "/charging-controllers/%s/control" % UID, body)
            assert got == status and set(answer) == {"error", "field"} and answer["error"], (
                body[:40],
                answer,
            )
        got, answer = rest(rt, "PUT", "/charging-points/%s/config" % UID, {"maximum_charge_current": 1000})
        assert got == 422 and answer["field"] == "maximum_charge_current"
        assert rest(rt, "GET", "/charging-controllers/%s/control?param_list=charge_enable" % UID) == (
            200, {"charge_enable": True})  # fmt: skip
        assert charging(data)
        assert rest(rt, "GET", "/charging-points/%s/config" % UID)[1]["maximum_charge_current"] != 1000

        assert rest(rt, "PUT", "/charging-controllers/%s/control" % UID, {"charge_enable": False})[0] == 200
    finally:
        stop_head(head)

    # A restart of the head (and, in the simulated park, of its modules): the value is still there and
    # the agent applies it to the module that appears again; a new EV does not charge until it is true.
    head, rt = start_head(data)
    try:
        assert until("REST back", lambda: rest(rt, "GET", "/charging-controllers/%s/control" % UID))[1][
            "charge_enable"] is False  # fmt: skip
        until("the stored value applied to the new module", lambda: module(data)["enabled"] == 0, 30)
        car_charges(data)
        time.sleep(3.0)
        assert not module(data)["contactor"]
        assert rest(rt, "PUT", "/charging-controllers/%s/control" % UID, {"charge_enable": True})[0] == 200
        until("the EV charges after the PUT", lambda: charging(data), 30)
    finally:
        stop_head(head)
    print(
        "charge_enable false -> contactor open %.3f s; true -> charging again %.3f s" % (stopped_s, resumed_s)
    )
