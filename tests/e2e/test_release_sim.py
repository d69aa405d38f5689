"""End to end, charging release on a simulated park (`chargepark run --sim 2`, real micropython modules,
mosquitto, the services): a card at a point's reader decided against the park's whitelist (released and
charging, refused with RFID Denied, discarded after the RFID timeout, the same card again ending the
session), and each release mode tried against the WBM, REST and Modbus paths: exactly the manual's path
releases, the others are refused with the mode named and the point does not move."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chargedefs as cd
import httpx
import pytest
from chargepark import simctl
from chargepark.release import gate
from chargepark.runtime import free_port, runtime_path
from pymodbus.client import ModbusTcpClient

from tests.e2e.test_head_sim import CHARGEPARK, cli, until
from tests.e2e.test_rest_control import rest
from tests.host.wbmkit import change_factory_password

CP1, CP2 = "CPSIM0001", "CPSIM0002"
FUTURE, PAST = "2099-12-31T23:59:59Z", "2020-01-01T00:00:00Z"


class Park:
    def __init__(self, data: Path, rt: dict[str, Any], modbus_port: int) -> None:
        self.data, self.rt, self.modbus_port = data, rt, modbus_port

    def rest(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return rest(self.rt, method, path, body)

    def module(self, position: int) -> dict[str, Any]:
        endpoint = simctl.load_endpoints(self.data)[position]["sim_control"]
        point: dict[str, Any] = simctl.request(endpoint, {"cmd": "state"})["point"]
        return point

    def sim(self, position: int, *args: str) -> None:
        out = cli("sim", "--data", str(self.data), "--point", str(position), *args)
        assert out.returncode == 0, out.stdout + out.stderr

    def configure(self, uid: str, **fields: Any) -> None:
        status, body = self.rest("PUT", "/charging-points/%s/config" % uid, fields)
        assert status == 200, body


@pytest.fixture(scope="module")
def park(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Park]:
    data = tmp_path_factory.mktemp("release") / "data"
    data.mkdir()
    port = free_port()
    modbus = {"server_port": port, "write_clients": [{"address": "127.0.0.1"}]}
    assert cli("config", "set", "--data", str(data), "modbus", json.dumps(modbus)).returncode == 0
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "2", "--no-traffic", "--data", str(data), "--mqtt-port", "0",
         "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        rt = until("runtime.json", lambda: json.loads(runtime_path(data).read_text()))
        p = Park(data, rt, port)
        for uid in (CP1, CP2):
            until("%s online" % uid, lambda u=uid: p.rest("GET", "/charging-controllers/%s/data?param_list=bus_state"
                                                       % u) == (200, {"bus_state": "online"}), 90)  # fmt: skip
        yield p
    finally:
        head.terminate()
        head.communicate(timeout=60)


def released(p: Park, position: int) -> bool:
    return bool(p.module(position)["release"])


def charging(p: Park, position: int) -> bool:
    m = p.module(position)
    return bool(m["contactor"]) and m["status_name"] == "Charging"


def flag(p: Park, position: int, bit: int) -> bool:
    return bool(p.module(position)["flags"] & bit)


@pytest.mark.slow
def test_a_card_at_the_reader_decided_against_the_whitelist(park: Park) -> None:
    p = park
    # Output 1 high on RFID Denied, output 2 on RFID Charge Release: the module's Event Actions see both.
    rules = [{"event": "rfid_denied", "action": "do_high", "action_output": 1},
             {"event": "rfid_release", "action": "do_high", "action_output": 2}]  # fmt: skip
    p.configure(CP1, release_charging_mode="whitelist", rfid_timeout_s=3, event_actions=rules)
    for uid, body in (("04A1B2C3", {"active": True}), ("0BADCAFE", {"active": False}),
                      ("0E0E0E0E", {"expiry_date_utc": PAST})):  # fmt: skip
        assert p.rest("POST", "/rfid-whitelist", {"uid": uid, "type": "rfid", "label": uid,
                                                  "expiry_date_utc": FUTURE, **body})[0] == 201  # fmt: skip
    p.sim(1, "plug")
    p.sim(1, "charge")
    until("the EV waits for its release", lambda: p.module(1)["status_name"] == "SuspendedEVSE", 30)

    for tag in ("DEADBEEF", "0BADCAFE", "0E0E0E0E"):  # unknown, disallowed, expired
        p.sim(1, "rfid", tag)
        until("%s refused: Last RFID Invalid" % tag, lambda: flag(p, 1, cd.FLAG_LAST_RFID_INVALID), 10)
        assert not released(p, 1) and not p.module(1)["contactor"]
        time.sleep(1.5)  # the card leaves the field before the next one
    assert p.module(1)["outputs"] & 0xF == cd.OUT_HIGH  # RFID Denied fired

    t0 = time.monotonic()
    p.sim(1, "rfid", "04a1b2c3")
    until("the whitelisted card releases and the EV charges", lambda: charging(p, 1), 15)
    took = time.monotonic() - t0
    assert not flag(p, 1, cd.FLAG_LAST_RFID_INVALID) and (p.module(1)["outputs"] >> 4) & 0xF == cd.OUT_HIGH
    assert took < 10

    time.sleep(1.5)
    p.sim(1, "rfid", "04A1B2C3")  # the same card again ends the session and unlocks
    until("the session ends", lambda: not p.module(1)["contactor"] and not released(p, 1), 15)
    assert flag(p, 1, cd.FLAG_ENFORCED_UNLOCK)
    sessions = until("the session stored", lambda: [s for s in p.rest("GET", "/sessions?uid=%s" % CP1)[1]
                                                   if s["ended"]], 15)  # fmt: skip
    assert sessions[0]["reason"] == "enforced_unlock"

    p.sim(1, "unplug")
    until("the plug is out", lambda: not flag(p, 1, cd.FLAG_ENFORCED_UNLOCK), 15)
    time.sleep(1.5)
    p.sim(1, "rfid", "04A1B2C3")  # no vehicle: the release waits, then the RFID timeout discards it
    until("released, waiting for a vehicle", lambda: released(p, 1), 10)
    assert not flag(p, 1, cd.FLAG_AUTH_ONGOING)  # decided: Authorization Request ongoing is over
    until("the RFID timeout discards it", lambda: not released(p, 1), 10)

    # 1:n: CP2 uses CP1's reader. The card releases CP2; CP1, whose reader read it, hears the decision
    # too (rfid_decided) and stops asking long before its own wait (AUTH_WAIT_MS, 15 s) would end it.
    p.configure(CP2, release_charging_mode="whitelist", rfid_reader_device_uid=CP1)
    p.sim(2, "plug")
    p.sim(2, "charge")
    until("CP2's EV waits for its release", lambda: p.module(2)["status_name"] == "SuspendedEVSE", 30)
    time.sleep(1.5)
    t0 = time.monotonic()
    p.sim(1, "rfid", "04A1B2C3")
    until("CP2 released through CP1's reader", lambda: charging(p, 2), 15)
    until("CP1 no longer asking", lambda: not flag(p, 1, cd.FLAG_AUTH_ONGOING), 15)
    assert time.monotonic() - t0 < 10, "CP1 was not told: its own wait ended it"
    assert not released(p, 1)
    p.sim(2, "unplug")
    until("CP2's session over", lambda: not released(p, 2), 15)
    p.configure(CP2, release_charging_mode="dashboard", rfid_reader_device_uid="")


def wbm_user(p: Park) -> httpx.Client:
    c = httpx.Client(base_url="http://127.0.0.1:%d" % p.rt["web_port"], timeout=15)
    change_factory_password(c, "user")
    return c


@pytest.mark.slow
def test_each_release_mode_takes_exactly_its_path(park: Park) -> None:
    p = park
    p.sim(2, "plug")
    p.sim(2, "charge")
    wbm = wbm_user(p)
    modbus = ModbusTcpClient("127.0.0.1", port=p.modbus_port, timeout=5)
    assert modbus.connect()
    release_reg = 2000 + 300

    def via_wbm(on: bool) -> tuple[bool, str]:
        r = wbm.put("/api/wbm/points/%s/charging-allowed" % CP2, json={"on": on})
        return r.status_code == 200, r.json().get("error", "")

    def via_rest(on: bool) -> tuple[bool, str]:
        """charge_enable carries the release in mode remote only (elsewhere it is Allow/Prohibit alone and
        moves no release); the remote control's own write, the external release, names the mode."""
        status, body = p.rest("PUT", "/charging-controllers/%s/control" % CP2, {"charge_enable": on})
        assert status == 200, body
        if gate.allows(
            p.rest("GET", "/charging-points/%s/config" % CP2)[1]["release_charging_mode"], "remote"
        ):
            return True, ""
        status, body = p.rest("PUT", "/charging-controllers/%s/control" % CP2, {"external_release": False})
        return status == 200, body.get("error", "")

    def via_modbus(on: bool) -> tuple[bool, str]:
        r = modbus.write_register(release_reg, int(on), device_id=1)
        return not r.isError(), "" if not r.isError() else "Modbus exception %s" % r

    paths = {"dashboard": via_wbm, "remote": via_rest, "modbus": via_modbus}
    until("the Modbus server sees point 2", lambda: not modbus.read_holding_registers(2120, count=1, device_id=1)
          .isError(), 30)  # fmt: skip
    for mode in cd.RELEASE_MODES:
        extra = {"ocpp16_connector_id": 1} if mode == "ocpp" else {}
        p.configure(CP2, release_charging_mode=mode, **extra)
        until("mode %s on Modbus" % mode, lambda m=mode: modbus.read_holding_registers(2120, count=1, device_id=1)
              .registers == [cd.RELEASE_MODES.index(m)], 15)  # fmt: skip
        until(
            "%s: released only when permanent" % mode, lambda m=mode: released(p, 2) == (m == "permanent"), 15
        )
        for source, path in paths.items():
            ok, why = path(True)
            if gate.allows(mode, source):
                assert ok, (mode, source, why)
                until("%s released by %s" % (mode, source), lambda: charging(p, 2), 20)
                ok, why = path(False)
                assert ok, (mode, source, why)
                until("%s withdrawn by %s" % (mode, source), lambda: not released(p, 2), 15)
            else:
                assert not ok, (mode, source)
                if source != "modbus":  # the WBM and REST answer the gate's reason
                    assert gate.NAMES[mode] in why or "release mode" in why, (mode, source, why)
                time.sleep(0.3)
                assert released(p, 2) == (mode == "permanent"), (mode, source)
    modbus.close()
    wbm.close()
