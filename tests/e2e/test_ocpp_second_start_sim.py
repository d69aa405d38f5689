"""End to end on `chargepark run --sim 2` (point 2 = connector 1) against the loopback Central System: a
remote stop with the vehicle still plugged in, then a second remote start in the same plug-in. The module
reports the new release (session_release again), so the backend gets a second StartTransaction whose
meterStart is the first one's meterStop, and the vehicle never charges outside a transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.e2e.test_ocpp_sim import ocpp_head, sim
from tests.host.ocppkit import CentralSystem


@pytest.mark.slow
def test_a_second_remote_start_in_one_plug_in_is_a_second_transaction(tmp_path: Path) -> None:
    cs = CentralSystem(user="CB0001", key="k3y", interval=30)
    with ocpp_head(tmp_path, cs, {"MeterValueSampleInterval": 2}) as data:

        def status() -> str:
            return str(cs.actions("StatusNotification")[-1].payload["status"])

        for verb in (["ev", "phases=3", "max_a=16"], ["plug", "cable_a=32"], ["charge"]):
            sim(data, *verb)
        cs.wait("Preparing", lambda: status() == "Preparing", 30)
        meter_stop = None
        for n in (1, 2):
            assert (
                cs.call(call.RemoteStartTransaction(id_tag="TAG%d" % n, connector_id=1)).status == "Accepted"
            )
            start = cs.wait(
                "StartTransaction %d" % n, lambda n=n: cs.actions("StartTransaction")[n - 1 :], 30
            )[0]
            assert start.payload["idTag"] == "TAG%d" % n
            meter_start = start.payload["meterStart"]
            assert meter_stop is None or meter_start == meter_stop  # the second goes on from the first
            cs.wait("Charging", lambda: status() == "Charging", 30)
            cs.wait("energy counted", lambda m0=meter_start: [m for m in cs.actions("MeterValues")
                                                              if int(m.payload["meterValue"][0]["sampledValue"][0]["value"])
                                                              > m0], 60)  # fmt: skip
            tx = 1000 + n
            assert cs.call(call.RemoteStopTransaction(transaction_id=tx)).status == "Accepted"
            stop = cs.wait("StopTransaction %d" % n, lambda n=n: cs.actions("StopTransaction")[n - 1 :], 30)[
                0
            ]
            assert stop.payload["transactionId"] == tx and stop.payload["reason"] == "Remote"
            meter_stop = stop.payload["meterStop"]
            cs.wait("not charging", lambda: status() != "Charging", 30)
        sim(data, "unplug")
        cs.wait("Available", lambda: status() == "Available", 30)
        assert len(cs.actions("StartTransaction")) == 2 and len(cs.actions("StopTransaction")) == 2
