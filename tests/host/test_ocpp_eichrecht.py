"""Calibration law over OCPP against the loopback Central System (the `ocpp` package's): a signing meter's
public key reaches the backend in one DataTransfer per signing connector after BootNotification (and when
a key becomes known), with VendorAtKeyTransfer/MessageAtKeyTransfer; the StopTransaction of a signing point
carries the meter's OCMF record as a SignedData sampledValue that verifies with that key, whose readings are
the transaction's meterStart and meterStop, and which fails verification with one byte flipped;
SignedDataFormat 1 carries the record in the transparency software's XML with the key, 2 is Rejected. The records come from the simulated Iskra
(chargepark.simmeter.SigningMeter, a real P-256 key) in the module's record form (iomodule.signing)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import chargedefs
import pytest
from chargepark.ocpp import eichrecht
from chargepark.simmeter import SigningMeter
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from iomodule import meters
from iomodule.signing import ocmf_record
from ocpp.v16 import call

from tests.host.test_ocpp_backend import UIDS, rig, run

SIGNING = meters.MAPS["wm3m4"]["signing"]


def signed_session(meter: SigningMeter, start_wh: int, stop_wh: int) -> str:
    """The record the module reports for a session from start_wh to stop_wh (the meter's own steps)."""
    meter.write(SIGNING["command"], [SIGNING["start"]], start_wh)
    meter.write(SIGNING["command"], [SIGNING["stop"]], stop_wh)
    return ocmf_record(meter.payload.decode(), meter.signature)


def verify(key_hex: str, record: str) -> dict[str, Any]:
    """The payload of an OCMF record whose signature verifies with the key (raises InvalidSignature)."""
    head, payload, tail = record.split("|")
    assert head == "OCMF"
    key = serialization.load_der_public_key(bytes.fromhex(key_hex))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(bytes.fromhex(json.loads(tail)["SD"]), payload.encode(), ec.ECDSA(hashes.SHA256()))
    data: dict[str, Any] = json.loads(payload)
    return data


def know_key(r: Any, uid: str, meter: SigningMeter) -> None:
    """What the controller agent keeps of the module's meter_key and meter_ident events."""
    r.store.put("module", {"station": "ST", "position": UIDS.index(uid) + 1, "meter_public_key": meter.public_key_hex,
                           "meter_serial": meter.serial}, key=uid)  # fmt: skip


def test_key_transfer_and_a_signed_stop_transaction(tmp_path: Path) -> None:
    meter = SigningMeter(SIGNING, "79123456", "1.0")

    async def scenario() -> None:
        async with rig(tmp_path, VendorAtKeyTransfer="de.example.eichrecht", MessageAtKeyTransfer="PublicKey",
                       StopTxnSampledData="Energy.Active.Import.Register") as r:  # fmt: skip
            know_key(r, UIDS[0], meter)
            dt = await r.until("key transfer", lambda: r.cs.actions("DataTransfer"))
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            boot = r.cs.actions("BootNotification")[-1]
            assert dt[0].at > boot.at  # after the backend accepted the charge box
            assert (
                dt[0].payload["vendorId"] == "de.example.eichrecht"
                and dt[0].payload["messageId"] == "PublicKey"
            )
            assert json.loads(dt[0].payload["data"]) == {"connectorId": 1, "meterSerial": "79123456",
                                                         "publicKey": meter.public_key_hex}  # fmt: skip
            # the second point's meter reports its key later: its transfer follows, the first is not repeated
            other = SigningMeter(SIGNING, "79123457", "1.0")
            know_key(r, UIDS[1], other)
            await r.event(UIDS[1], "meter_key", other.public_key_hex)
            dts = await r.until(
                "second key", lambda: r.cs.actions("DataTransfer")[1:] and r.cs.actions("DataTransfer")
            )
            assert json.loads(dts[1].payload["data"])["connectorId"] == 2
            await asyncio.sleep(1.0)
            assert len(r.cs.actions("DataTransfer")) == 2  # once per connector and connection
            # a session from 1000 Wh to 1500 Wh: the StopTransaction waits for the signed record
            await r.event(UIDS[0], "session_start", [4, 1000])
            await r.event(UIDS[0], "session_release", [4, 1000])
            await r.until("start", lambda: r.cs.actions("StartTransaction"))
            r.set_live(UIDS[0], status="Charging", energy_wh=1500)
            await r.event(UIDS[0], "session_stop", [4, 1500, 500, 60, 50, chargedefs.STOP_EV_DISCONNECTED])
            await asyncio.sleep(0.5)
            assert not r.cs.actions("StopTransaction")
            record = signed_session(meter, 1000, 1500)
            await r.event(UIDS[0], "meter_signed", [4, record, 0])
            stop = (await r.until("stop", lambda: r.cs.actions("StopTransaction")))[0].payload
            start = r.cs.actions("StartTransaction")[0].payload
            values = stop["transactionData"][0]["sampledValue"]
            signed = [v for v in values if v.get("format") == "SignedData"]
            assert len(signed) == 1 and signed[0]["context"] == "Transaction.End"
            assert [v["value"] for v in values if v.get("format") != "SignedData"] == [
                "1500"
            ]  # StopTxnSampledData
            data = verify(json.loads(dt[0].payload["data"])["publicKey"], signed[0]["value"])
            readings = [round(rd["RV"] * 1000) for rd in data["RD"]]
            assert readings == [start["meterStart"], stop["meterStop"]] == [1000, 1500]
            flipped = bytearray(signed[0]["value"].encode())
            flipped[flipped.index(b'"RV":1.5') + 7] ^= 0x01  # 1.5 kWh -> 1.4 kWh
            with pytest.raises(InvalidSignature):
                verify(meter.public_key_hex, flipped.decode())
            # a new connection sends the keys again
            r.cs.stop()
            r.cs.start()
            await r.until("keys again", lambda: len(r.cs.actions("DataTransfer")) == 4, 30)

    run(scenario())


def test_the_transparency_software_xml_carries_a_record_that_verifies_with_its_key(tmp_path: Path) -> None:
    """SignedDataFormat 1: the StopTransaction's SignedData value is the transparency software's XML container,
    its signedData the meter's OCMF record, exactly (no whitespace around it), and its publicKey the meter's."""
    meter = SigningMeter(SIGNING, "79123456", "1.0")

    async def scenario() -> None:
        async with rig(tmp_path, VendorAtKeyTransfer="V", SignedDataFormat=1) as r:
            know_key(r, UIDS[0], meter)
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await r.event(UIDS[0], "session_release", [3, 2000])
            await r.until("start", lambda: r.cs.actions("StartTransaction"))
            await r.event(UIDS[0], "session_stop", [3, 2600, 600, 60, 50, chargedefs.STOP_EV_DISCONNECTED])
            record = signed_session(meter, 2000, 2600)
            await r.event(UIDS[0], "meter_signed", [3, record, 0])
            stop = (await r.until("stop", lambda: r.cs.actions("StopTransaction")))[0].payload
            (value,) = [
                v["value"] for v in stop["transactionData"][0]["sampledValue"] if v["format"] == "SignedData"
            ]
            assert value.startswith('<?xml version="1.0" encoding="UTF-8"?><values>')
            root = ElementTree.fromstring(value)
            (entry,) = root.findall("value")
            signed, key = entry.find("signedData"), entry.find("publicKey")
            assert signed is not None and key is not None
            assert signed.attrib == {"format": "OCMF", "encoding": "plain"} and signed.text == record
            assert key.attrib == {"encoding": "hex"} and key.text == meter.public_key_hex
            data = verify(key.text, signed.text)
            assert [round(rd["RV"] * 1000) for rd in data["RD"]] == [2000, 2600]

    run(scenario())


def test_no_signed_record_in_time_stops_without_and_a_refusal_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A meter that does not sign (its record "" with its status) or whose record does not come within
    SIGNED_WAIT_S: the StopTransaction goes without one; the backend refusing the key transfer is logged and
    not repeated; SignedDataFormat 2 is Rejected with the reason logged, 1 and 0 Accepted."""
    monkeypatch.setattr(eichrecht, "SIGNED_WAIT_S", 1.0)
    meter = SigningMeter(SIGNING, "1", "1.0")

    async def scenario() -> None:
        async with rig(tmp_path, VendorAtKeyTransfer="V") as r:
            feed = asyncio.ensure_future(r.feed.run())  # the service's event loop: it handles the wait's end
            r.cs.data_transfer_status = "Rejected"
            know_key(r, UIDS[0], meter)
            dt = await r.until("key transfer", lambda: r.cs.actions("DataTransfer"))
            assert "messageId" not in dt[0].payload  # MessageAtKeyTransfer empty: none
            await r.event(UIDS[0], "session_release", [1, 100])
            await r.until("start", lambda: r.cs.actions("StartTransaction"))
            await r.event(UIDS[0], "session_stop", [1, 150, 50, 60, 50, chargedefs.STOP_EV_DISCONNECTED])
            await r.event(UIDS[0], "meter_signed", [1, "", 131])
            stop = (await r.until("stop", lambda: r.cs.actions("StopTransaction")))[0].payload
            assert stop["meterStop"] == 150 and "transactionData" not in stop
            await r.event(UIDS[0], "session_release", [2, 150])
            await r.until("start 2", lambda: r.cs.actions("StartTransaction")[1:])
            await r.event(UIDS[0], "session_stop", [2, 170, 20, 60, 50, chargedefs.STOP_EV_DISCONNECTED])
            stops = await r.until("stop 2 without a record", lambda: r.cs.actions("StopTransaction")[1:])
            assert stops[0].payload["meterStop"] == 170 and "transactionData" not in stops[0].payload
            await r.event(UIDS[0], "meter_signed", [2, signed_session(meter, 150, 170), 0])  # too late
            await asyncio.sleep(0.5)
            assert len(r.cs.actions("StopTransaction")) == 2 and len(r.cs.actions("DataTransfer")) == 1
            for value, status in (("2", "Rejected"), ("1", "Accepted"), ("0", "Accepted")):
                answer = await r.cs_call(call.ChangeConfiguration(key="SignedDataFormat", value=value))
                assert answer.status == status, value
            assert r.store.get("ocpp")["SignedDataFormat"] == 0
            assert (
                "SignedDataFormat 2 (measuring-device-specific format): the meters here sign OCMF"
                in caplog.text
            )
            assert "public key of connector 1: the backend answered Rejected" in caplog.text
            feed.cancel()

    run(scenario())


def test_a_point_without_a_signing_meter_stops_at_once(tmp_path: Path) -> None:
    """No meter_public_key (or SignedDataFormat not OCMF): no key transfer, the StopTransaction at once."""

    async def scenario() -> None:
        async with rig(tmp_path, VendorAtKeyTransfer="V") as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await r.event(UIDS[1], "session_release", [1, 100])
            await r.until("start", lambda: r.cs.actions("StartTransaction"))
            await r.event(UIDS[1], "session_stop", [1, 150, 50, 60, 50, chargedefs.STOP_EV_DISCONNECTED])
            await r.until("stop", lambda: r.cs.actions("StopTransaction"), 2)
            assert not r.cs.actions("DataTransfer")

    run(scenario())


@pytest.mark.parametrize("by", ["remote", "same card"])
def test_a_stop_by_the_backend_or_the_card_waits_for_the_record_the_release_withdrawal_brings(
    tmp_path: Path, by: str
) -> None:
    """RemoteStopTransaction, or the same card again (PresentingRFIDEndCharging): the module is told
    `release false`, its meter signs then (iomodule: the release taken back ends the meter's transaction)
    and the StopTransaction, reason Remote or Local, carries that record; the vehicle's leaving later sends
    no second one."""
    meter = SigningMeter(SIGNING, "79123456", "1.0")

    async def scenario() -> None:
        async with rig(tmp_path, VendorAtKeyTransfer="V", PresentingRFIDEndCharging=True) as r:
            know_key(r, UIDS[0], meter)
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await r.event(UIDS[0], "session_start", [7, 1000])
            if by == "remote":
                await r.event(UIDS[0], "session_release", [7, 1000])
            else:
                await r.event(UIDS[0], "rfid_read", "CAFE01")
                await r.until("released", lambda: (UIDS[0], "release", True) in r.ops.sent)
                await r.event(UIDS[0], "session_release", [7, 1000])
            starts = await r.until("start", lambda: r.cs.actions("StartTransaction"))
            r.set_live(UIDS[0], status="Charging", energy_wh=1400)
            if by == "remote":
                stop_call = call.RemoteStopTransaction(transaction_id=1001)  # the Central System's first id
                assert (await r.cs_call(stop_call)).status == "Accepted"
            else:
                await r.event(UIDS[0], "rfid_read", starts[0].payload["idTag"])
            await r.until("release withdrawn", lambda: (UIDS[0], "release", False) in r.ops.sent)
            await asyncio.sleep(0.5)
            assert not r.cs.actions("StopTransaction")  # it waits for the meter
            await r.event(UIDS[0], "meter_signed", [7, signed_session(meter, 1000, 1400), 0])
            stop = (await r.until("stop", lambda: r.cs.actions("StopTransaction")))[0].payload
            assert stop["reason"] == ("Remote" if by == "remote" else "Local") and stop["meterStop"] == 1400
            (signed,) = [
                v for v in stop["transactionData"][0]["sampledValue"] if v.get("format") == "SignedData"
            ]
            readings = [round(rd["RV"] * 1000) for rd in verify(meter.public_key_hex, signed["value"])["RD"]]
            assert readings == [1000, 1400]
            await r.event(UIDS[0], "session_stop", [7, 1400, 400, 90, 50, chargedefs.STOP_EV_DISCONNECTED])
            await asyncio.sleep(1.0)
            assert len(r.cs.actions("StopTransaction")) == 1

    run(scenario())


def test_a_serial_number_read_after_the_key_sends_the_transfer_again(tmp_path: Path) -> None:
    meter = SigningMeter(SIGNING, "79123456", "1.0")

    async def scenario() -> None:
        async with rig(tmp_path, VendorAtKeyTransfer="V") as r:
            r.store.put("module", {"station": "ST", "position": 1, "meter_public_key": meter.public_key_hex},
                        key=UIDS[0])  # fmt: skip
            first = await r.until("key transfer", lambda: r.cs.actions("DataTransfer"))
            assert json.loads(first[0].payload["data"])["meterSerial"] == ""
            r.store.put("module", {"meter_serial": meter.serial}, key=UIDS[0])  # meter_ident came later
            both = await r.until(
                "again with the serial",
                lambda: r.cs.actions("DataTransfer")[1:] and r.cs.actions("DataTransfer"),
            )
            assert json.loads(both[1].payload["data"]) == {"connectorId": 1, "meterSerial": "79123456",
                                                           "publicKey": meter.public_key_hex}  # fmt: skip
            await asyncio.sleep(1.0)
            assert len(r.cs.actions("DataTransfer")) == 2

    run(scenario())
