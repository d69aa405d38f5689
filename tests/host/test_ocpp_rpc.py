"""The charge box against the second, independent Central System: `ocpp-rpc` (Node) in strict mode
(tests/host/ocpprpckit.py), which checks every CALL and CALLRESULT in both directions against its own copy
of the OCPP 1.6 JSON schemas. A representative message of every profile goes each way; none may fail its
validation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import chargedefs
import pytest
from chargepark.ocpp.station import now_iso

from tests.host.ocppkit import FileServer, firmware_package
from tests.host.ocpprpckit import RpcCentralSystem, RpcError
from tests.host.test_ocpp_backend import UIDS, Rig, run, running


class RpcRig:
    def __init__(self, r: Rig, cs: RpcCentralSystem) -> None:
        self.r, self.cs = r, cs

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self.cs.call, method, params)

    async def status(self, method: str, **params: Any) -> str:
        return str((await self.call(method, **params))["status"])


@asynccontextmanager
async def rpc_rig(tmp: Path, user: str = "", key: str = "", **settings: Any) -> AsyncIterator[RpcRig]:
    cs = RpcCentralSystem(user, key)
    try:
        if user or key:
            settings.update(AuthorizationUser=user, AuthorizationKey=key)
        async with running(Rig(tmp, cs, settings)) as r:  # type: ignore[arg-type]  # a Central System by its url
            yield RpcRig(r, cs)
        assert not cs.invalid, cs.invalid  # nothing failed the strict validation, in either direction
    finally:
        cs.close()


def test_every_profile_against_ocpp_rpc_in_strict_mode(tmp_path: Path) -> None:
    files = FileServer(tmp_path / "files")
    firmware_package(tmp_path / "files" / "fw.tar.gz", b"firmware v2" * 100)

    async def scenario() -> None:
        async with rpc_rig(tmp_path, "CB0001", "s3cret", MeterValueSampleInterval=1,
                           MeterValuesSampledData="Energy.Active.Import.Register,Power.Active.Import,Current.Import,"
                           "Voltage,Frequency,Temperature", StopTxnSampledData="Energy.Active.Import.Register",
                           ClockAlignedDataInterval=0, PreUnavailabilityForUpdate=0) as x:  # fmt: skip
            r, cs = x.r, x.cs
            cs_boot = await r.until("booted", lambda: cs.actions("BootNotification"))
            assert cs.connections[-1]["protocol"] == "ocpp1.6" and cs.connections[-1]["identity"] == "CB0001"
            assert cs_boot[0].payload["chargePointModel"]
            await r.until("every connector's status", lambda: len(cs.actions("StatusNotification")) >= 3)
            # Core: configuration
            conf = await x.call("GetConfiguration")
            assert {k["key"] for k in conf["configurationKey"]} >= {"HeartbeatInterval", "NumberOfConnectors"}
            some = await x.call("GetConfiguration", key=["MaxCurrent", "NoSuchKey"])
            assert some["unknownKey"] == ["NoSuchKey"]
            assert (
                await x.status("ChangeConfiguration", key="MeterValueSampleInterval", value="2") == "Accepted"
            )
            assert await x.status("ChangeConfiguration", key="NumberOfConnectors", value="3") == "Rejected"
            assert await x.status("ChangeConfiguration", key="NoSuchKey", value="1") == "NotSupported"
            # Core + Smart Charging: a remote start with a TxProfile, the session, meter values, remote stop
            tx_profile = {"chargingProfileId": 7, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
                          "chargingProfileKind": "Relative", "chargingSchedule": {"chargingRateUnit": "A",
                          "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}}  # fmt: skip
            assert await x.status("RemoteStartTransaction", idTag="TAG1", connectorId=1,
                                  chargingProfile=tx_profile) == "Accepted"  # fmt: skip
            await r.event(UIDS[0], "session_start", [3, 1000])
            await r.event(UIDS[0], "session_release", [3, 1000])
            r.set_live(UIDS[0], status="Charging", energy_wh=1500, iec_state=chargedefs.STATE_C2)
            start = await r.until("StartTransaction", lambda: cs.actions("StartTransaction"))
            tx = 2001
            assert start[0].payload["idTag"] == "TAG1" and start[0].payload["meterStart"] == 1000
            await r.until("its meter values", lambda: [m for m in cs.actions("MeterValues")
                                                       if m.payload.get("transactionId") == tx])  # fmt: skip
            default = {"chargingProfileId": 8, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                       "chargingProfileKind": "Recurring", "recurrencyKind": "Daily",
                       "validFrom": now_iso(time.time() - 60), "validTo": now_iso(time.time() + 86400),
                       "chargingSchedule": {"chargingRateUnit": "W", "duration": 86400, "startSchedule": now_iso(),
                                            "minChargingRate": 1380.0, "chargingSchedulePeriod": [
                                                {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
                                                {"startPeriod": 3600, "limit": 7000.0}]}}  # fmt: skip
            assert (
                await x.status("SetChargingProfile", connectorId=0, csChargingProfiles=default) == "Accepted"
            )
            cap = {"chargingProfileId": 9, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
                   "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A",
                   "startSchedule": now_iso(), "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}]}}  # fmt: skip
            assert await x.status("SetChargingProfile", connectorId=0, csChargingProfiles=cap) == "Accepted"
            for unit in ("A", "W"):
                schedule = await x.call(
                    "GetCompositeSchedule", connectorId=1, duration=600, chargingRateUnit=unit
                )
                assert (
                    schedule["status"] == "Accepted"
                    and schedule["chargingSchedule"]["chargingRateUnit"] == unit
                )
            assert (await x.call("GetCompositeSchedule", connectorId=0, duration=60))["status"] == "Accepted"
            assert await x.status("GetCompositeSchedule", connectorId=9, duration=60) == "Rejected"
            assert await x.status("ClearChargingProfile", id=8) == "Accepted"
            assert (
                await x.status("ClearChargingProfile", chargingProfilePurpose="TxDefaultProfile") == "Unknown"
            )
            assert await x.status("ClearChargingProfile") == "Accepted"
            # Remote Trigger: every message it names
            for what in ("BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                         "Heartbeat", "MeterValues", "StatusNotification"):  # fmt: skip
                n = len(cs.actions(what))
                assert await x.status("TriggerMessage", requestedMessage=what, connectorId=1) == "Accepted"
                await r.until("triggered " + what, lambda w=what, n=n: len(cs.actions(w)) > n)  # type: ignore[misc]
            assert await x.status("TriggerMessage", requestedMessage="Heartbeat", connectorId=9) == "Rejected"
            # Core: availability scheduled during the transaction, unlock ends it; the StopTransaction
            assert await x.status("ChangeAvailability", connectorId=1, type="Inoperative") == "Scheduled"
            assert await x.status("ChangeAvailability", connectorId=2, type="Inoperative") == "Accepted"
            assert await x.status("ChangeAvailability", connectorId=2, type="Operative") == "Accepted"
            assert await x.status("RemoteStopTransaction", transactionId=tx) == "Accepted"
            stop = await r.until("StopTransaction", lambda: cs.actions("StopTransaction"))
            assert stop[0].payload["transactionId"] == tx and stop[0].payload["reason"] == "Remote"
            assert stop[0].payload["transactionData"]
            assert await x.status("RemoteStopTransaction", transactionId=tx) == "Rejected"
            await r.event(UIDS[0], "session_stop", [3, 1500, 500, 60, 50, chargedefs.STOP_EV_DISCONNECTED])
            r.set_live(UIDS[0])
            assert await x.status("ChangeAvailability", connectorId=0, type="Operative") == "Accepted"
            assert await x.status("UnlockConnector", connectorId=1) == "Unlocked"
            assert await x.status("UnlockConnector", connectorId=9) == "NotSupported"
            # Local Auth List Management, then a card: Authorize
            assert await x.status("SendLocalList", listVersion=3, updateType="Full", localAuthorizationList=[
                {"idTag": "CARD1", "idTagInfo": {"status": "Accepted", "expiryDate": now_iso(time.time() + 3600),
                                                 "parentIdTag": "FLEET"}},
                {"idTag": "CARD2", "idTagInfo": {"status": "Blocked"}}]) == "Accepted"  # fmt: skip
            assert await x.status("SendLocalList", listVersion=4, updateType="Differential",
                                  localAuthorizationList=[{"idTag": "CARD2"}]) == "Accepted"  # fmt: skip
            assert await x.status("SendLocalList", listVersion=2, updateType="Differential",
                                  localAuthorizationList=[]) == "VersionMismatch"  # fmt: skip
            assert (await x.call("GetLocalListVersion"))["listVersion"] == 4
            assert await x.status("ClearCache") == "Accepted"
            await r.event(UIDS[1], "rfid_read", "CARD9")
            await r.until("Authorize", lambda: cs.actions("Authorize"))
            # Reservation
            later = now_iso(time.time() + 3600)
            assert await x.status("ReserveNow", connectorId=2, expiryDate=later, idTag="RES1", reservationId=5,
                                  parentIdTag="FLEET") == "Occupied"  # fmt: skip  # the card's waiting start
            assert await x.status("ReserveNow", connectorId=1, expiryDate=later, idTag="RES1",
                                  reservationId=5) == "Accepted"  # fmt: skip
            assert await x.status("CancelReservation", reservationId=5) == "Accepted"
            assert await x.status("CancelReservation", reservationId=5) == "Rejected"
            # Core: DataTransfer
            assert (
                await x.status("DataTransfer", vendorId="acme", messageId="x", data="y") == "UnknownVendorId"
            )
            # Firmware Management
            await x.call("UpdateFirmware", location=files.url("fw.tar.gz"), retrieveDate=now_iso(), retries=1,
                         retryInterval=1)  # fmt: skip
            await r.until("firmware installed", lambda: [m for m in cs.actions("FirmwareStatusNotification")
                                                          if m.payload["status"] == "Installed"], 60)  # fmt: skip
            (tmp_path / "files" / "diag").mkdir()
            diag = await x.call("GetDiagnostics", location=files.ftp_url("diag"), retries=0,
                                startTime=now_iso(time.time() - 3600), stopTime=now_iso())  # fmt: skip
            assert diag["fileName"].startswith("diagnostics-")
            await r.until("the archive at the backend", lambda: list((tmp_path / "files" / "diag").iterdir()))
            await r.until("diagnostics uploaded", lambda: [m for m in cs.actions("DiagnosticsStatusNotification")
                                                            if m.payload["status"] == "Uploaded"], 60)  # fmt: skip
            # Core: Reset
            assert await x.status("Reset", type="Hard") == "Accepted"
            await r.until("reset", lambda: r.resets == ["Hard"])
            assert {m.action for m in cs.received} >= {"BootNotification", "StatusNotification", "Heartbeat",
                    "StartTransaction", "MeterValues", "StopTransaction", "Authorize",
                    "FirmwareStatusNotification", "DiagnosticsStatusNotification"}  # fmt: skip

    try:
        run(scenario())
    finally:
        files.close()


def test_ocpp_rpc_is_strict(tmp_path: Path) -> None:
    """The validation is on: a CALL that breaks the schema is refused before it leaves ocpp-rpc, and
    reported as the kind of failure the test above asserts is absent."""

    async def scenario() -> None:
        async with rpc_rig(tmp_path) as x:
            await x.r.until("booted", lambda: x.cs.actions("StatusNotification"))
            with pytest.raises(RpcError):
                await x.call("RemoteStartTransaction", connectorId=1)  # idTag is required
            bad = x.cs.invalid.pop()
            assert bad["method"] == "RemoteStartTransaction" and bad["outbound"] and bad["isCall"]
            assert (UIDS[0], "release", True) not in x.r.ops.sent

    run(scenario())
