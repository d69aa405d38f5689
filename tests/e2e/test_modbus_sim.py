"""End to end: `chargepark run --sim 3` with the Modbus Server on a free port. Debian's `mbpoll` reads every
documented register of the group and of each point and writes the control registers; a pymodbus client
does the block reads existing clients use; values match the data hub's REST; the watchdog expires and the
fallback current is signalled; writes in the wrong release mode are refused and change nothing."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from chargepark.modbus.encode import decode
from chargepark.modbus.registers import GROUP, POINT
from chargepark.runtime import free_port, runtime_path
from pymodbus.client import ModbusTcpClient

from tests.e2e.test_head_sim import CHARGEPARK, cli, until

UIDS = ("CPSIM0001", "CPSIM0002", "CPSIM0003")


def mbpoll(port: int, address: int, count: int = 1, write: int | None = None) -> list[int]:
    """Registers read (or written) by mbpoll, 0-based PDU addresses."""
    args = ["mbpoll", "-m", "tcp", "-a", "1", "-0", "-1", "-o", "5", "-t", "4:hex", "-p", str(port),
            "-r", str(address)]  # fmt: skip
    if write is None:
        args += ["-c", str(count), "127.0.0.1"]
    else:
        args += ["127.0.0.1", str(write)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise OSError("mbpoll %s: %s %s" % (args[-3:], out.stdout[-300:], out.stderr[-300:]))
    return [int(v, 16) for v in re.findall(r"^\[\d+\]:\s+0x([0-9A-Fa-f]{4})", out.stdout, re.M)]


def mbpoll_refused(port: int, address: int, value: int) -> bool:
    args = ["mbpoll", "-m", "tcp", "-a", "1", "-0", "-1", "-o", "5", "-t", "4", "-p", str(port),
            "-r", str(address), "127.0.0.1", str(value)]  # fmt: skip
    out = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return (
        out.returncode != 0 and "Connection failed" not in out.stdout + out.stderr
    )  # mbpoll: exit 1, no text


def value(regs: list[int], offset: int, kind: str, size: int) -> Any:
    return decode(kind, regs[offset : offset + size])


@pytest.mark.slow
def test_mbpoll_and_pymodbus_against_a_simulated_park(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    modbus = {"server_port": port, "write_clients": [{"address": "127.0.0.1"}]}
    assert cli("config", "set", "--data", str(data), "modbus", json.dumps(modbus)).returncode == 0
    head = subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "3", "--no-traffic", "--data", str(data), "--mqtt-port", "0",
         "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        rt = until("runtime.json", lambda: json.loads(runtime_path(data).read_text()))

        def rest(uid: str, params: str) -> dict[str, Any]:
            url = "http://127.0.0.1:%d/api/v1.0/charging-controllers/%s/data?param_list=%s"
            with urllib.request.urlopen(url % (rt["rest_port"], uid, params), timeout=5) as r:
                return dict(json.loads(r.read()))

        until("three points over Modbus", lambda: mbpoll(port, 114) == [3], 90)
        # Point 2 in release mode Modbus; vehicles at points 1 and 2.
        assert cli("config", "set", "--data", str(data), "--key", "CPSIM0002", "chargepoint",
                   json.dumps({"release_mode": "modbus"})).returncode == 0  # fmt: skip
        for point in ("1", "2"):
            for verb in (["ev", "phases=3", "max_a=32"], ["plug", "cable_a=32"], ["charge"]):
                assert cli("sim", "--data", str(data), "--point", point, *verb).returncode == 0
        until("point 1 charging", lambda: rest(UIDS[0], "status")["status"] == "Charging", 30)
        until("point 2 in release mode modbus", lambda: mbpoll(port, 2120) == [5], 30)

        # Every documented register, read by mbpoll one row at a time.
        for reg in GROUP:
            assert len(mbpoll(port, reg.at, reg.size)) == reg.size, reg.name
        for start in (1000, 2000, 3000):
            for reg in POINT:
                assert len(mbpoll(port, start + reg.at, reg.size)) == reg.size, reg.name

        # The block reads existing clients use (pymodbus), matched against the data hub.
        client = ModbusTcpClient("127.0.0.1", port=port, timeout=5)
        assert client.connect()
        group = client.read_holding_registers(100, count=68, device_id=1).registers
        assert value(group, 14, "uint16", 1) == 3
        for n, uid in enumerate(UIDS, 1):
            conf = client.read_input_registers(n * 1000 + 100, count=24, device_id=255).registers
            status = client.read_holding_registers(n * 1000 + 232, count=77, device_id=1).registers
            hub = rest(uid, "energy,iec_61851_state,error_status_int,connected_time_sec")
            assert value(conf, 13, "ascii", 3) == uid[-6:] and value(conf, 19, "uint16", 1) == n
            assert value(status, 299 - 232, "ascii", 1)[0] == hub["iec_61851_state"][0]
            assert value(status, 293 - 232, "uint32", 2) == hub["error_status_int"]
            assert abs(value(status, 0, "uint32", 2) - hub["energy"]["u1"]["value"] * 1000) <= 5000
            assert (
                abs(value(status, 250 - 232, "uint64", 4) - hub["energy"]["energy_real_power"]["value"]) <= 5
            )
            assert abs(value(status, 285 - 232, "uint32", 2) - hub["connected_time_sec"]) <= 3
        assert value(group, 151 - 100, "uint16", 1) == 1  # point 2 waits for its release over Modbus

        # X301 limits in every release mode (point 1 is permanent): the hub shows the signalled current.
        mbpoll(port, 1301, write=10)
        until("point 1 at 10 A", lambda: rest(UIDS[0], "pwm_current_a")["pwm_current_a"] == 10, 15)
        assert mbpoll(port, 1301) == [10]
        assert mbpoll_refused(port, 1301, 5)
        assert mbpoll(port, 1301) == [10]
        mbpoll(port, 1301, write=0)
        until("point 1 paused", lambda: rest(UIDS[0], "status")["status"] == "SuspendedEVSE", 15)
        mbpoll(port, 1301, write=16)
        until("point 1 charging again", lambda: rest(UIDS[0], "status")["status"] == "Charging", 15)

        # Wrong release mode: refused, nothing changes; in mode Modbus the release works.
        assert mbpoll_refused(port, 1300, 0) and mbpoll_refused(port, 1304, 0)
        assert rest(UIDS[0], "status")["status"] == "Charging"
        mbpoll(port, 2300, write=1)
        until("point 2 released over Modbus", lambda: rest(UIDS[1], "status")["status"] == "Charging", 20)
        mbpoll(port, 2300, write=0)
        until("point 2 release withdrawn", lambda: rest(UIDS[1], "status")["status"] != "Charging", 20)
        mbpoll(port, 2300, write=1)

        # The watchdog: not kept alive, point 2 falls back to X306 and keeps charging.
        until("point 2 charging", lambda: rest(UIDS[1], "status")["status"] == "Charging", 20)
        mbpoll(port, 2306, write=7)
        mbpoll(port, 2307, write=2)
        until("watchdog fallback signalled", lambda: rest(UIDS[1], "pwm_current_a")["pwm_current_a"] == 7, 20)
        assert mbpoll(port, 2301) == [7]
        assert rest(UIDS[1], "status")["status"] == "Charging"
        mbpoll(port, 2307, write=65535)
        client.close()
    finally:
        head.terminate()
        try:
            head.wait(30)
        except subprocess.TimeoutExpired:
            head.kill()
        time.sleep(0.1)
