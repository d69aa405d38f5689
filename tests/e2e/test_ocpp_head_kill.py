"""End to end (issue 15, item 7): a `kill -9` of the whole head in the middle of an OCPP transaction.

`chargepark run --sim 2` with point 2 on connector 1 of the loopback Central System (the `ocpp` package's
central-system side) charges in a transaction; then the whole head (supervisor, broker, every service and
the simulated IO modules) is killed with SIGKILL at once and started again. What a real
power loss of the head leaves standing, the simulated world restores once the modules are back: the
vehicle still plugged in and charging, the meter at its count. The backend then sees the transaction go
on: no Available between the kill and its end, no second StartTransaction, meter values of the same
transaction, and when the vehicle leaves one StopTransaction with the meter reading of that moment."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from tests.e2e.test_head_sim import alive, cli, descendants, until
from tests.e2e.test_ocpp_sim import end, launch, ocpp_head, service, sim
from tests.host.ocppkit import CentralSystem


def state(data: Path) -> dict[str, Any]:
    out = cli("sim", "--data", str(data), "--point", "2", "state")
    assert out.returncode == 0, out.stdout + out.stderr
    return dict(json.loads(out.stdout))


def meter(m: Any) -> int:
    return int(m.payload["meterValue"][0]["sampledValue"][0]["value"])


def connector_statuses(cs: CentralSystem, since: int) -> list[str]:
    return [r.payload["status"] for r in cs.received[since:]
            if r.action == "StatusNotification" and r.payload["connectorId"] == 1]  # fmt: skip


@pytest.mark.slow
def test_whole_head_killed_mid_transaction_resumes_it(tmp_path: Path) -> None:
    cs = CentralSystem(user="CB0001", key="k3y", interval=2)
    ocpp = {"MeterValueSampleInterval": 2, "MeterValuesSampledData": "Energy.Active.Import.Register"}
    with ocpp_head(tmp_path, cs, ocpp) as data:
        for verb in (["ev", "phases=3", "max_a=16"], ["plug", "cable_a=32"], ["charge"]):
            sim(data, *verb)
        assert cs.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1)).status == "Accepted"
        start = cs.wait("StartTransaction", lambda: cs.actions("StartTransaction"), 30)[0]
        tx = 1001
        cs.wait("energy counted", lambda: [m for m in cs.actions("MeterValues") if m.payload.get("transactionId") == tx
                                           and meter(m) > start.payload["meterStart"]], 60)  # fmt: skip

        # The whole head goes at once: the supervisor and every child (each service runs in a process
        # group of its own, the simulated modules in the supervisor's), frozen first so none sees another go.
        supervisor = _parent_of(int(service(data, "ocpp16")["pid"]))
        head = [supervisor, *descendants(supervisor)]
        counted = state(data)["point"]["energy_wh"]  # the meter's count: the plant stops with the module
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in head:
                os.kill(pid, sig)
        until("every process of the head gone", lambda: not any(alive(p) for p in head), 30)
        seen = len(cs.received)
        before = cs.actions("MeterValues")[-1]
        counted = max(counted, meter(before))  # the meter at the kill: at least what it last reported

        again = launch(data)
        try:
            # The world outside the head stood still: the vehicle is plugged in, the meter kept its count.
            until("the simulated modules back", lambda: cli("sim", "--data", str(data), "--point", "2", "set",
                                                           "energy_wh=%d" % counted).returncode == 0, 90)  # fmt: skip
            for verb in (["ev", "phases=3", "max_a=16"], ["plug", "cable_a=32"], ["charge"]):
                sim(data, *verb)
            resumed = cs.wait("meter values of the resumed transaction", lambda: [
                m for m in cs.received[seen:] if m.action == "MeterValues"
                and m.payload.get("transactionId") == tx and meter(m) > counted], 120)  # fmt: skip
            cs.wait("Charging again", lambda: "Charging" in connector_statuses(cs, seen), 60)

            sim(data, "unplug")
            stop = cs.wait("StopTransaction", lambda: cs.actions("StopTransaction"), 60)[0]
            cs.wait("Available after the end", lambda: connector_statuses(cs, seen)[-1:] == ["Available"], 60)
            left = state(data)["point"]["energy_wh"]
            assert stop.payload["transactionId"] == tx and stop.payload["reason"] == "EVDisconnected"
            assert stop.payload["meterStop"] == left  # the meter as the vehicle left
            assert left >= meter(resumed[-1]) > counted >= meter(before) >= start.payload["meterStart"]
            assert len(cs.actions("StartTransaction")) == 1, "a second StartTransaction after the restart"
            assert len(cs.actions("StopTransaction")) == 1
            statuses = connector_statuses(cs, seen)
            assert "Available" not in statuses[:-1], "Available during the transaction: %s" % statuses
            after_stop = [r for r in cs.received if r.at > stop.at and r.action == "StatusNotification"]
            assert [r.payload["status"] for r in after_stop][-1:] == ["Available"]
        finally:
            end(again)


def _parent_of(pid: int) -> int:
    return int(Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[1])
