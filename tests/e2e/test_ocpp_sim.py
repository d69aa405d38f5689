"""End to end: `chargepark run --sim 2` with point 2 in release mode "ocpp" (connector 1) against the
loopback Central System (tests/host/ocppkit.py, the `ocpp` package's central-system side): boot, statuses,
remote start -> StartTransaction with the module's meter -> the EV charges -> MeterValues -> remote stop ->
StopTransaction with the meter; then a second session with the backend stopped mid-session and the OCPP
service killed (`kill -9`) while offline: when the backend is back every message arrives once, in order,
with the backend's transaction id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from chargepark.runtime import runtime_path
from ocpp.v16 import call

from tests.e2e.test_head_sim import CHARGEPARK, cli, until
from tests.host.ocppkit import CentralSystem

UID = "CPSIM0002"


def service(data: Path, name: str) -> dict[str, Any]:
    reply = json.loads(cli("service", "status", "--data", str(data), "--json").stdout)
    return dict(next(s for s in reply["services"] if s["name"] == name))


def launch(data: Path) -> subprocess.Popen[str]:
    """`chargepark run --sim 2` on `data`, in a process group of its own (a test may kill it whole)."""
    return subprocess.Popen(
        [*CHARGEPARK, "run", "--sim", "2", "--no-traffic", "--data", str(data), "--mqtt-port", "0",
         "--rest-port", "0", "--web-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip


def end(head: subprocess.Popen[str]) -> None:
    """Stops a launched head as its user would (SIGTERM), killed when it does not end within 30 s."""
    head.send_signal(signal.SIGTERM)
    try:
        head.wait(30)
    except subprocess.TimeoutExpired:
        head.kill()


@contextmanager
def ocpp_head(
    tmp_path: Path, cs: CentralSystem, ocpp: dict[str, Any], point: dict[str, Any] | None = None
) -> Iterator[Path]:
    """`chargepark run --sim 2` with point 2 in release mode "ocpp" (connector 1) on the started Central
    System `cs` (Basic authentication CB0001 / k3y), booted and connector 1 Available; yields the data
    directory. Stops the head and the Central System at the end."""
    data = tmp_path / "data"
    data.mkdir()
    cs.start()
    ocpp = {"BackendURL": cs.url, "AuthorizationUser": "CB0001", "AuthorizationKey": "k3y", **ocpp}
    assert cli("config", "set", "--data", str(data), "ocpp", json.dumps(ocpp)).returncode == 0
    head = launch(data)
    try:
        until("runtime.json", lambda: json.loads(runtime_path(data).read_text()))
        cfg = json.dumps({"release_mode": "ocpp", "ocpp_connector_id": 1, **(point or {})})
        until("point 2 in release mode ocpp", lambda: cli("config", "set", "--data", str(data), "--key", UID,
                                                          "chargepoint", cfg).returncode == 0, 60)  # fmt: skip
        cs.wait("BootNotification", lambda: cs.actions("BootNotification"), 90)
        assert cs.paths[-1] == "/ocpp/CB0001"
        cs.wait("connector 1 Available", lambda: [s for s in cs.actions("StatusNotification")
                                                  if s.payload["connectorId"] == 1 and s.payload["status"] == "Available"], 60)  # fmt: skip
        yield data
    finally:
        end(head)
        cs.close()


def sim(data: Path, *verb: str) -> None:
    out = cli("sim", "--data", str(data), "--point", "2", *verb)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_ocpp_transactions_online_and_offline_with_a_killed_service(tmp_path: Path) -> None:
    cs = CentralSystem(user="CB0001", key="k3y", interval=2)
    ocpp = {
        "MeterValueSampleInterval": 2,
        "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
    }
    with ocpp_head(tmp_path, cs, ocpp) as data:
        # Online: plug in, remote start, charge, remote stop.
        for verb in (["ev", "phases=3", "max_a=16"], ["plug", "cable_a=32"], ["charge"]):
            sim(data, *verb)
        cs.wait(
            "Preparing",
            lambda: [s for s in cs.actions("StatusNotification") if s.payload["status"] == "Preparing"],
            30,
        )
        assert cs.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1)).status == "Accepted"
        start = cs.wait("StartTransaction", lambda: cs.actions("StartTransaction"), 30)[0]
        assert start.payload["idTag"] == "TAG1" and start.payload["connectorId"] == 1
        cs.wait(
            "Charging",
            lambda: [s for s in cs.actions("StatusNotification") if s.payload["status"] == "Charging"],
            30,
        )
        tx = 1001
        cs.wait("energy counted", lambda: [m for m in cs.actions("MeterValues") if m.payload.get("transactionId") == tx
                                           and int(m.payload["meterValue"][0]["sampledValue"][0]["value"]) > start.payload["meterStart"]], 60)  # fmt: skip
        assert cs.call(call.RemoteStopTransaction(transaction_id=tx)).status == "Accepted"
        stop = cs.wait("StopTransaction", lambda: cs.actions("StopTransaction"), 30)[0]
        assert stop.payload["transactionId"] == tx and stop.payload["reason"] == "Remote"
        assert stop.payload["meterStop"] > start.payload["meterStart"]
        cs.wait(
            "no longer charging",
            lambda: cs.actions("StatusNotification")[-1].payload["status"] != "Charging",
            30,
        )
        sim(data, "unplug")
        cs.wait(
            "Available again",
            lambda: cs.actions("StatusNotification")[-1].payload["status"] == "Available",
            30,
        )

        # Offline: a session starts online, the backend goes away, charging goes on, the vehicle leaves,
        # the OCPP service is killed; then the backend comes back.
        for verb in (["plug", "cable_a=32"], ["charge"]):
            sim(data, *verb)
        assert cs.call(call.RemoteStartTransaction(id_tag="TAG2", connector_id=1)).status == "Accepted"
        start2 = cs.wait("second StartTransaction", lambda: cs.actions("StartTransaction")[1:], 30)[0]
        cs.wait("charging", lambda: cs.actions("StatusNotification")[-1].payload["status"] == "Charging", 30)
        seen = len(cs.received)
        cs.stop()
        killed = 0
        time.sleep(6)  # about three sampled meter values, queued
        sim(data, "unplug")
        time.sleep(2)  # the StopTransaction is queued
        for _ in range(2):
            before = service(data, "ocpp16")
            os.kill(int(before["pid"]), signal.SIGKILL)
            killed += 1
            until(
                "ocpp16 restarted",
                lambda b=before: (
                    (s := service(data, "ocpp16"))["state"] == "running" and s["pid"] != b["pid"]
                ),
                30,
            )
        cs.start()
        cs.wait("the StopTransaction after the outage", lambda: cs.actions("StopTransaction")[1:], 90)
        cs.wait("a quiet moment", lambda: True, 1)
        after = [m for m in cs.received[seen:] if m.action in ("StartTransaction", "StopTransaction", "MeterValues")
                 and "transactionId" in m.payload]  # fmt: skip
        ids = [m.unique_id for m in after]
        assert len(ids) == len(set(ids)), "a message arrived twice"
        assert after[-1].action == "StopTransaction" and after[-1].payload["transactionId"] == 1002
        assert all(m.payload["transactionId"] == 1002 for m in after)
        meters = [
            int(m.payload["meterValue"][0]["sampledValue"][0]["value"])
            for m in after
            if m.action == "MeterValues"
        ]
        stamps = [m.payload["meterValue"][0]["timestamp"] for m in after if m.action == "MeterValues"]
        assert len(meters) >= 2 and meters == sorted(meters) and stamps == sorted(stamps)
        assert after[-1].payload["meterStop"] >= meters[-1] >= start2.payload["meterStart"]
        assert after[-1].payload["reason"] == "EVDisconnected" and killed == 2
        assert len(cs.actions("StartTransaction")) == 2  # no second start after the restarts
