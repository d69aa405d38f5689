"""End to end, calibration law: `chargepark run --sim 2` with point 2 in release mode "ocpp" and an Iskra
WM3M4C meter (the simulated park's pymodbus meter signs: chargepark.simmeter.SigningMeter). The module's
firmware (real micropython) reads the meter's public key and signs the session through its RTU driver, the
bus carries both to the head, and against the loopback Central System (the `ocpp` package's): the key
arrives in a DataTransfer with the configured vendor and message ids, and the StopTransaction carries an
OCMF record as SignedData that verifies with that key, whose readings are meterStart and meterStop, at
synchronized times (the module set the meter's clock from the head's wall clock)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ocpp.v16 import call

from tests.e2e.test_ocpp_sim import ocpp_head, sim
from tests.host.ocppkit import CentralSystem


def ocmf_time(text: str) -> float:
    """An OCMF reading's time ("2026-12-02T17:25:50,123+0100 S") as epoch seconds."""
    return datetime.strptime(text[:-2].replace(",", "."), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def iso_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.mark.slow
def test_the_parks_signing_meter_signs_the_ocpp_transaction(tmp_path: Path) -> None:
    cs = CentralSystem(user="CB0001", key="k3y", interval=30)
    ocpp = {"VendorAtKeyTransfer": "de.example.eichrecht", "MessageAtKeyTransfer": "PublicKey",
            "MeterValueSampleInterval": 2, "MeterValuesSampledData": "Energy.Active.Import.Register"}  # fmt: skip
    with ocpp_head(tmp_path, cs, ocpp, {"meter_type": "wm3m4"}) as data:
        # the module may read the meter's key before its serial number: the transfer then comes again with it
        def with_serial() -> list[Any]:
            return [a for a in cs.actions("DataTransfer") if json.loads(a.payload["data"])["meterSerial"]]

        dt = cs.wait("the key transfer with the meter's serial", with_serial, 90)[0].payload
        assert dt["vendorId"] == "de.example.eichrecht" and dt["messageId"] == "PublicKey"
        transfer = json.loads(dt["data"])
        assert transfer["connectorId"] == 1 and transfer["meterSerial"] == "20001"  # the park's meter
        key = serialization.load_der_public_key(bytes.fromhex(transfer["publicKey"]))
        assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
        for verb in (["ev", "phases=3", "max_a=16"], ["plug", "cable_a=32"]):
            sim(data, *verb)
        assert cs.call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1)).status == "Accepted"
        start = cs.wait("StartTransaction", lambda: cs.actions("StartTransaction"), 30)[0].payload
        sim(data, "charge")
        cs.wait("energy counted", lambda: [m for m in cs.actions("MeterValues") if m.payload.get("transactionId")
                                           and int(m.payload["meterValue"][0]["sampledValue"][0]["value"])
                                           > start["meterStart"] + 5], 90)  # fmt: skip
        sim(data, "pause")  # no current any more: the meter stands still until the vehicle leaves
        cs.wait("SuspendedEV", lambda: [s for s in cs.actions("StatusNotification")
                                        if s.payload["status"] == "SuspendedEV"], 30)  # fmt: skip
        cs.wait("a settled meter", lambda: True, 3)
        seen = len(cs.actions("MeterValues"))
        cs.wait("a sample while paused", lambda: len(cs.actions("MeterValues")) > seen + 1, 30)
        sim(data, "unplug")
        stop = cs.wait("StopTransaction", lambda: cs.actions("StopTransaction"), 60)[0].payload
        signed = [
            v
            for d in stop.get("transactionData", [])
            for v in d["sampledValue"]
            if v.get("format") == "SignedData"
        ]
        assert len(signed) == 1, stop
        head, payload, tail = signed[0]["value"].split("|")
        assert head == "OCMF"
        key.verify(bytes.fromhex(json.loads(tail)["SD"]), payload.encode(), ec.ECDSA(hashes.SHA256()))
        record = json.loads(payload)
        assert record["MV"] == "Iskra" and record["MS"] == "20001" and record["GI"] == "CHARGEPARK"
        assert [rd["TX"] for rd in record["RD"]] == ["B", "E"]
        readings = [round(rd["RV"] * 1000) for rd in record["RD"]]
        assert readings == [start["meterStart"], stop["meterStop"]] and readings[1] > readings[0]
        # the module set the meter's clock from the head's before the transaction: synchronized times
        assert [rd["TM"][-2:] for rd in record["RD"]] == [" S", " S"], record["RD"]
        begun, ended = (ocmf_time(rd["TM"]) for rd in record["RD"])
        assert (
            abs(begun - iso_time(start["timestamp"])) < 30 and abs(ended - iso_time(stop["timestamp"])) < 10
        )
