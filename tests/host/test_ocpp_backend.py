"""The OCPP charge box in process against the loopback Central System (tests/host/ocppkit.py, the `ocpp`
package's central-system side): connection, boot, statuses, remote start/stop over the session authority's
events, offline queueing, configuration keys, CALLERRORs. The points are stand-ins: their live samples and
events are fed in as the controller agent publishes them; their commands are recorded."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import chargedefs
import pytest
from chargepark import pointops, topics
from chargepark.bus.update import load_image
from chargepark.config.store import ConfigStore
from chargepark.ocpp import feed as feed_mod
from chargepark.ocpp.authlist import open_state
from chargepark.ocpp.backend import Backend
from chargepark.ocpp.feed import Feed
from chargepark.ocpp.firmware import FirmwareManagement, log_archive
from chargepark.ocpp.journal import Journal
from chargepark.ocpp.limits import Limits
from chargepark.ocpp.profiles import Profiles
from chargepark.ocpp.station import Station, now_iso
from chargepark.ocpp.timesync import TimeSync
from chargepark.ocpp.txqueue import TxQueue
from chargepark.services.ocpp16.main import restart_by_supervisor
from ocpp.v16 import call

from tests.host.ocppkit import CentralSystem, FileServer, firmware_package

UIDS = ("CPSIM0001", "CPSIM0002")


class Ops:
    """PointOps stand-in: records each command; `refuse` names commands the module refuses."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.refuse: set[str] = set()

    async def command(self, uid: str, name: str, value: Any = None) -> None:
        self.sent.append((uid, name, value))
        if name in self.refuse:
            raise pointops.PointRefused("refused")


def live(status: str = "Available", energy_wh: int = 1000, **more: int) -> dict[str, Any]:
    sample = {name: 0 for name, _unit in chargedefs.LIVE_FIELDS}
    sample.update(status=chargedefs.STATUSES.index(status), energy_wh=energy_wh, online=True,
                  power_mw=7_000_000, i1_ma=10_000, u1_mv=230_000, **more)  # fmt: skip
    return sample


class HeardTimeSync(TimeSync):
    """Counts the backend times handled (BootNotification and Heartbeat answers)."""

    heard = 0

    async def backend_time(self, current_time: str) -> None:
        await super().backend_time(current_time)
        self.heard += 1


class Rig:
    def __init__(self, tmp: Path, cs: CentralSystem, settings: dict[str, Any]) -> None:
        self.cs = cs
        self.store = ConfigStore.open(tmp / "config.db")
        for n, uid in enumerate(UIDS, 1):
            self.store.put(
                "chargepoint", {"name": "P%d" % n, "release_mode": "ocpp", "ocpp_connector_id": n}, key=uid
            )
        self.store.put("ocpp", {"BackendURL": cs.url, **settings})
        self.queue = TxQueue(tmp / "ocpp_queue.db")
        self.state = open_state(str(tmp / "ocpp_state.db"))
        self.journal = Journal(tmp / "ocpp_journal.db")
        self.station = Station(self.store, self.queue, self.state, self.journal)
        for uid in UIDS:
            self.station.live[uid] = live()
        self.ops = Ops()
        self.resets: list[str] = []

        async def reset(kind: str) -> None:
            self.resets.append(kind)

        self.installs: list[Path] = []  # image dirs the controller agent was asked to install
        self.install_errors: list[str] = []
        self.installing = asyncio.Event()  # set: an install may finish

        async def install(image_dir: Path) -> list[str]:
            load_image(image_dir)  # it is there, whole, while the agent installs it
            self.installs.append(image_dir)
            await self.installing.wait()
            return self.install_errors

        self.installing.set()
        (tmp / "data" / "logs").mkdir(parents=True, exist_ok=True)
        (tmp / "data" / "logs" / "ocpp16.log").write_text("the message log\n")
        self.firmware = FirmwareManagement(
            self.station, tmp / "fw", install, partial(log_archive, tmp / "data")
        )
        self.clock_set: list[float] = []  # what the system clock was set to
        self.timesync = HeardTimeSync(self.station, self.clock_set.append)
        self.backend = Backend(self.station, self.ops, reset, self.firmware, self.timesync)  # type: ignore[arg-type]
        self.feed = Feed(self.backend)
        self.published: list[tuple[float, str, dict[str, Any]]] = []  # topics.OCPP_LIMIT: (when, uid, limit)

        async def publish(uid: str, limit: dict[str, Any]) -> None:
            self.published.append((time.time(), uid, limit))

        self.limits = Limits(self.station, publish)

    def limit(self, uid: str) -> dict[str, Any] | None:
        return next((x[2] for x in reversed(self.published) if x[1] == uid), None)

    async def event(self, uid: str, name: str, arg: Any) -> None:
        await self.feed.handle(uid, name, arg)

    def set_live(self, uid: str, **kw: Any) -> None:
        self.station.live[uid] = live(**kw)
        self.backend.wake.set()

    async def until(self, what: str, check: Any, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            await asyncio.sleep(0.05)
        raise AssertionError("%s: not within %.0f s (received: %s)" % (what, timeout,
                             [(r.action, r.payload) for r in self.cs.received[-8:]]))  # fmt: skip

    async def cs_call(self, payload: Any) -> Any:
        return await asyncio.to_thread(self.cs.call, payload)


@asynccontextmanager
async def rig(tmp: Path, **settings: Any) -> AsyncIterator[Rig]:
    cs = CentralSystem(user=settings.get("AuthorizationUser", ""), key=settings.get("AuthorizationKey", ""),
                       interval=settings.pop("interval", 300))  # fmt: skip
    cs.boot = settings.pop("boot", [])
    cs.start()
    try:
        async with running(Rig(tmp, cs, settings)) as r:
            yield r
    finally:
        cs.close()


@asynccontextmanager
async def running(r: Rig) -> AsyncIterator[Rig]:
    """The rig's backend and limits run until the block ends (any Central System with a `url`)."""
    tasks = [asyncio.ensure_future(r.backend.run()), asyncio.ensure_future(r.limits.run())]
    try:
        yield r
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        r.queue.close()
        r.state.close()
        r.journal.close()
        r.store.close()


def run(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, 120))


def test_boot_pending_then_accepted_auth_path_statuses_and_heartbeat(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, AuthorizationUser="CB0001", AuthorizationKey="s3cret", interval=1,
                       boot=["Pending"], ChargePointSerialNumber="SN42") as r:  # fmt: skip
            boots = await r.until("two boots", lambda: r.cs.actions("BootNotification")[1:])
            assert boots[0].payload["chargePointModel"] == "chargepark AC"
            assert boots[0].payload["chargePointSerialNumber"] == "SN42"
            assert r.cs.actions("BootNotification")[1].at - r.cs.actions("BootNotification")[0].at >= 0.9
            assert r.cs.paths[-1] == "/ocpp/CB0001" and r.cs.auth[-1].startswith("Basic ")
            # Pending: nothing but BootNotification until Accepted
            first = [x.action for x in r.cs.received]
            assert first[:2] == ["BootNotification", "BootNotification"]
            statuses = await r.until("statuses", lambda: len(r.cs.actions("StatusNotification")) >= 3 and
                                     r.cs.actions("StatusNotification"))  # fmt: skip
            assert [s.payload["connectorId"] for s in statuses[:3]] == [0, 1, 2]
            assert all(
                s.payload["status"] == "Available" and s.payload["errorCode"] == "NoError" for s in statuses
            )
            await r.until(
                "heartbeats at the backend's interval", lambda: len(r.cs.actions("Heartbeat")) >= 2, 10
            )
            assert ("CPSIM0001", "backend", True) in r.ops.sent
            # a status change and an error reach the backend
            r.set_live(UIDS[1], status="Faulted", error_bits=chargedefs.ERR_CONTACTOR)
            fault = await r.until("faulted", lambda: [s for s in r.cs.actions("StatusNotification")
                                                      if s.payload["status"] == "Faulted"])  # fmt: skip
            assert fault[0].payload["errorCode"] == "PowerSwitchFailure"
            assert fault[0].payload["connectorId"] == 2 and fault[0].payload["vendorErrorCode"] == "CONTACTOR"

    run(scenario())


def test_wrong_credentials_are_refused_and_retried(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, AuthorizationUser="CB0001", AuthorizationKey="wrong") as r:
            r.cs.key = "right"
            await r.until("two refused attempts", lambda: len(r.cs.auth) >= 2, 10)
            assert not r.cs.actions()
            r.store.put("ocpp", {"AuthorizationKey": "right"})
            await r.until("accepted with the new key", lambda: r.cs.actions("BootNotification"), 40)

    run(scenario())


def test_remote_start_transaction_meter_values_remote_stop(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, MeterValueSampleInterval=1,
                       MeterValuesSampledData="Energy.Active.Import.Register,Power.Active.Import,Current.Import",
                       StopTxnSampledData="Energy.Active.Import.Register") as r:  # fmt: skip
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            answer = await r.cs_call(call.RemoteStartTransaction(id_tag="TAG1", connector_id=1))
            assert answer.status == "Accepted"
            assert (UIDS[0], "release", True) in r.ops.sent
            again = await r.cs_call(call.RemoteStartTransaction(id_tag="TAG2", connector_id=1))
            assert again.status == "Rejected"  # one waiting remote start per connector
            # the module's session authority: plug-in, release -> StartTransaction with its meter
            await r.event(UIDS[0], "session_start", [7, 1000])
            await r.event(UIDS[0], "session_release", [7, 1000])
            await r.event(UIDS[0], "session_release", [7, 1000])  # a duplicate changes nothing
            r.set_live(UIDS[0], status="Charging", energy_wh=1500)
            start = await r.until("StartTransaction", lambda: r.cs.actions("StartTransaction"))
            assert start[0].payload["connectorId"] == 1 and start[0].payload["idTag"] == "TAG1"
            assert start[0].payload["meterStart"] == 1000
            mv = await r.until("transaction meter values", lambda: [m for m in r.cs.actions("MeterValues")
                                                                     if m.payload.get("transactionId") == 1001])  # fmt: skip
            values = {
                (v["measurand"], v.get("phase")): v for v in mv[0].payload["meterValue"][0]["sampledValue"]
            }
            assert values[("Energy.Active.Import.Register", None)]["value"] == "1500"
            assert (
                values[("Power.Active.Import", None)]["value"] == "7000"
                and values[("Current.Import", "L1")]["value"] == "10"
            )
            stop = await r.cs_call(call.RemoteStopTransaction(transaction_id=1001))
            assert stop.status == "Accepted" and (UIDS[0], "release", False) in r.ops.sent
            stops = await r.until("StopTransaction", lambda: r.cs.actions("StopTransaction"))
            assert stops[0].payload["transactionId"] == 1001 and stops[0].payload["meterStop"] == 1500
            assert stops[0].payload["reason"] == "Remote"
            assert stops[0].payload["transactionData"][0]["sampledValue"][0]["context"] == "Transaction.End"
            # the vehicle leaves later: its session_stop sends no second StopTransaction
            await r.event(UIDS[0], "session_stop", [7, 1500, 500, 60, 50, chargedefs.STOP_EV_DISCONNECTED])
            await asyncio.sleep(1.5)
            assert len(r.cs.actions("StopTransaction")) == 1
            assert (await r.cs_call(call.RemoteStopTransaction(transaction_id=1001))).status == "Rejected"

    run(scenario())


def test_session_stop_reasons_and_emergency_stop(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await r.event(UIDS[1], "session_release", [1, 200])
            await r.event(UIDS[1], "session_stop", [1, 260, 60, 30, 20, chargedefs.STOP_ENFORCED_UNLOCK])
            await r.event(UIDS[1], "session_release", [2, 260])
            await r.event(UIDS[1], "ea_message", "EmergencyStop")
            await r.event(UIDS[1], "session_stop", [2, -1, 15, 30, 20, chargedefs.STOP_DISABLED])
            stops = await r.until(
                "two stops", lambda: r.cs.actions("StopTransaction")[1:] and r.cs.actions("StopTransaction")
            )
            assert [(s.payload["reason"], s.payload["meterStop"]) for s in stops] == [
                ("UnlockCommand", 260),
                ("EmergencyStop", 275),
            ]
            starts = r.cs.actions("StartTransaction")
            assert [s.payload["idTag"] for s in starts] == ["chargepark", "chargepark"]
            assert [s.payload["transactionId"] for s in stops] == [1001, 1002]
            info = await r.until("the description in StatusNotification",
                                 lambda: [s for s in r.cs.actions("StatusNotification") if s.payload.get("info") == "EmergencyStop"])  # fmt: skip
            assert info[0].payload["connectorId"] == 2

    run(scenario())


def test_offline_queue_in_order_once_with_ids_mapped_and_a_callerror_does_not_block(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, MeterValueSampleInterval=1, TransactionMessageAttempts=2,
                       TransactionMessageRetryInterval=1) as r:  # fmt: skip
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await asyncio.to_thread(r.cs.stop)
            await r.until("offline", lambda: not r.backend.online)
            # two sessions while the backend is away: start, meter values, stop
            await r.event(UIDS[0], "session_release", [1, 100])
            r.set_live(UIDS[0], status="Charging", energy_wh=150)
            await asyncio.sleep(2.5)
            await r.event(UIDS[0], "session_stop", [1, 180, 80, 40, 30, chargedefs.STOP_EV_DISCONNECTED])
            await r.event(UIDS[1], "session_release", [5, 900])
            await r.event(UIDS[1], "session_stop", [5, 950, 50, 40, 30, chargedefs.STOP_EV_DISCONNECTED])
            r.set_live(UIDS[0])
            queued = len(r.queue)
            assert queued >= 5
            before = len(r.cs.received)
            r.cs.refuse = [
                "StartTransaction"
            ] * 2  # the first start is refused twice (two attempts), then dropped
            await asyncio.to_thread(r.cs.start)
            await r.until("the queue drained", lambda: len(r.queue) == 0, 60)
            got = [m for m in r.cs.received[before:] if m.action in ("StartTransaction", "StopTransaction", "MeterValues")
                   and (m.action != "MeterValues" or "transactionId" in m.payload)]  # fmt: skip
            ids = [m.unique_id for m in got]
            assert (
                got[0].action == got[1].action == "StartTransaction" and ids[0] == ids[1]
            )  # re-sent, same id
            # the refused transaction's dependents are dropped; the second transaction goes through in order
            rest = [(m.action, m.payload.get("transactionId")) for m in got[2:]]
            assert rest == [("StartTransaction", None), ("StopTransaction", 1001)], rest
            assert got[2].payload["meterStart"] == 900 and got[3].payload["meterStop"] == 950
            assert len(set(ids[1:])) == len(ids[1:])  # once each

    run(scenario())


def test_offline_queue_survives_a_restart_of_the_service(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await asyncio.to_thread(r.cs.stop)
            await r.until("offline", lambda: not r.backend.online)
            await r.event(UIDS[0], "session_release", [3, 10])
            await r.event(UIDS[0], "session_stop", [3, 30, 20, 5, 4, chargedefs.STOP_EV_DISCONNECTED])
            url = r.cs.url
        async with rig(tmp_path) as r2:  # a new process over the same files, a new backend at another port
            assert len(r2.queue) == 2 and url != r2.cs.url
            got = await r2.until(
                "both delivered",
                lambda: (
                    r2.cs.actions("StopTransaction") and r2.cs.actions("StartTransaction", "StopTransaction")
                ),
            )
            assert [(m.action, m.payload.get("meterStart", m.payload.get("meterStop"))) for m in got] == [
                ("StartTransaction", 10),
                ("StopTransaction", 30),
            ]

    run(scenario())


def test_configuration_keys(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, AuthorizationKey="s3cret") as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            every = await r.cs_call(call.GetConfiguration())
            by_key = {k["key"]: k for k in every.configuration_key}
            assert by_key["AuthorizationKey"]["value"] == "****"
            assert by_key["HeartbeatInterval"] == {
                "key": "HeartbeatInterval",
                "readonly": False,
                "value": "300",
            }
            assert by_key["NumberOfConnectors"] == {
                "key": "NumberOfConnectors",
                "readonly": True,
                "value": "2",
            }
            assert by_key["LocalAuthorizeOffline"]["value"] == "true"
            assert by_key["StopTransactionOnEVSideDisconnect"] == {  # the module ends the session at unplug
                "key": "StopTransactionOnEVSideDisconnect",
                "readonly": True,
                "value": "true",
            }
            assert by_key["UnlockConnectorOnEVSideDisconnect"]["readonly"] is False
            assert "BackendURL" not in by_key and "ServiceUID" in by_key and "WebSocketPingTimeout" in by_key
            some = await r.cs_call(call.GetConfiguration(key=["MaxCurrent", "NoSuchKey"]))
            assert [k["key"] for k in some.configuration_key] == ["MaxCurrent"] and some.unknown_key == [
                "NoSuchKey"
            ]
            cases = [("MaxCurrent", "32", "Accepted"), ("MaxCurrent", "5", "Rejected"), ("MaxCurrent", "x", "Rejected"),
                     ("LocalPreAuthorize", "TRUE", "Accepted"), ("LocalPreAuthorize", "yes", "Rejected"),
                     ("LogLevel", "TRACE", "Rejected"), ("NumberOfConnectors", "3", "Rejected"),
                     ("NoSuchKey", "1", "NotSupported"), ("MeterValuesSampledData", "SoC", "Rejected"),
                     ("MeterValuesSampledData", "Energy.Active.Import.Register,Voltage", "Accepted"),
                     ("NewBackendURL", "http://x", "Rejected"), ("AuthorizationKey", "n3w", "Accepted"),
                     ("StopTransactionOnEVSideDisconnect", "false", "Rejected"), ("ResetRetries", "11", "Rejected"),
                     ("ResetRetries", "0", "Accepted"), ("UnlockConnectorOnEVSideDisconnect", "false", "Accepted")]  # fmt: skip
            for key, value, want in cases:
                got = await r.cs_call(call.ChangeConfiguration(key=key, value=value))
                assert got.status == want, (key, value, got.status)
            stored = r.store.get("ocpp")
            assert (
                stored["MaxCurrent"] == 32
                and stored["LocalPreAuthorize"] is True
                and stored["AuthorizationKey"] == "n3w"
            )
            await r.cs_call(call.ChangeConfiguration(key="HeartbeatInterval", value="10"))
            assert r.backend.box is not None and r.backend.box.heartbeat_s == 10

    run(scenario())


def test_availability_unlock_reset_cache_datatransfer_trigger(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            assert (
                await r.cs_call(call.ChangeAvailability(connector_id=2, type="Inoperative"))
            ).status == "Accepted"
            assert (UIDS[1], "available", False) in r.ops.sent
            await r.event(UIDS[0], "session_release", [1, 0])
            assert (
                await r.cs_call(call.ChangeAvailability(connector_id=0, type="Operative"))
            ).status == "Scheduled"
            assert (UIDS[1], "available", True) in r.ops.sent and (
                UIDS[0],
                "available",
                True,
            ) not in r.ops.sent
            assert (await r.cs_call(call.UnlockConnector(connector_id=1))).status == "Unlocked"
            assert r.ops.sent[-1] == (UIDS[0], "enforce_unlock", True)  # the module ends the session first
            await r.event(UIDS[0], "session_stop", [1, 5, 5, 1, 1, chargedefs.STOP_ENFORCED_UNLOCK])
            assert (
                UIDS[0],
                "available",
                True,
            ) in r.ops.sent  # the scheduled change, once the transaction ended
            assert (await r.cs_call(call.UnlockConnector(connector_id=1))).status == "Unlocked"
            assert r.ops.sent[-1] == (UIDS[0], "unlock", None)
            r.ops.refuse = {"unlock"}
            assert (await r.cs_call(call.UnlockConnector(connector_id=1))).status == "UnlockFailed"
            assert (await r.cs_call(call.UnlockConnector(connector_id=9))).status == "NotSupported"
            assert (await r.cs_call(call.ClearCache())).status == "Accepted"
            assert (await r.cs_call(call.DataTransfer(vendor_id="acme"))).status == "UnknownVendorId"
            n = len(r.cs.actions("StatusNotification"))
            for what in ("StatusNotification", "Heartbeat", "MeterValues", "BootNotification",
                         "DiagnosticsStatusNotification", "FirmwareStatusNotification"):  # fmt: skip
                assert (
                    await r.cs_call(call.TriggerMessage(requested_message=what, connector_id=1))
                ).status == "Accepted"
                await r.until(what, lambda w=what: r.cs.actions(w))
            assert len(r.cs.actions("StatusNotification")) > n
            assert (
                await r.cs_call(call.TriggerMessage(requested_message="Heartbeat", connector_id=7))
            ).status == "Rejected"
            assert (await r.cs_call(call.Reset(type="Soft"))).status == "Accepted"
            await r.until("reset", lambda: r.resets == ["Soft"])

    run(scenario())


def test_card_authorize_and_the_same_card_ends(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            r.cs.invalid_tags = {"BAD"}
            await r.event(UIDS[0], "rfid_read", "BAD")
            assert r.ops.sent[-1] == (UIDS[0], "rfid", ["BAD", False])
            await r.event(UIDS[0], "rfid_read", "GOOD")
            assert r.ops.sent[-1] == (UIDS[0], "release", True)
            assert [a.payload["idTag"] for a in r.cs.actions("Authorize")] == ["BAD", "GOOD"]
            await r.event(UIDS[0], "session_release", [4, 50])
            await r.event(UIDS[0], "rfid_read", "OTHER")  # not this transaction's: decided, nothing released
            assert r.ops.sent[-1] == (UIDS[0], "rfid_decided", "denied")
            await r.event(UIDS[0], "rfid_read", "GOOD")
            assert r.ops.sent[-1] == (UIDS[0], "release", False)
            stop = await r.until("stop", lambda: r.cs.actions("StopTransaction"))
            assert stop[0].payload["reason"] == "Local"
            assert r.cs.actions("StartTransaction")[0].payload["idTag"] == "GOOD"

    run(scenario())


def test_a_remotely_locked_socket_is_locked_with_the_release_and_unlocked_when_the_vehicle_leaves(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            remote = {"connection_type": "socket", "locking_mode": "remote"}
            r.store.put("chargepoint", {**r.store.get("chargepoint", UIDS[0]), **remote}, key=UIDS[0])
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            # a card before the plug: released, the lock waits for the plug (a locked socket refuses it)
            await r.event(UIDS[0], "rfid_read", "GOOD")
            assert r.ops.sent[-1] == (UIDS[0], "release", True)
            assert (UIDS[0], "lock", None) not in r.ops.sent
            await r.event(UIDS[0], "session_start", [1, 0])
            assert r.ops.sent[-1] == (UIDS[0], "lock", None)
            await r.event(UIDS[0], "session_release", [1, 0])
            await r.event(UIDS[0], "session_stop", [1, 5, 5, 1, 1, chargedefs.STOP_EV_DISCONNECTED])
            assert r.ops.sent[-1] == (UIDS[0], "unlock", None)  # UnlockConnectorOnEVSideDisconnect
            await r.until("stopped", lambda: r.cs.actions("StopTransaction"))
            # the vehicle plugged in first: locked, then released
            r.set_live(UIDS[0], iec_state=chargedefs.STATE_B1)
            await r.event(UIDS[0], "session_start", [2, 5])
            n = len(r.ops.sent)
            assert (
                await r.cs_call(call.RemoteStartTransaction(id_tag="GOOD", connector_id=1))
            ).status == "Accepted"
            await r.until("released", lambda: (UIDS[0], "release", True) in r.ops.sent[n:])
            assert r.ops.sent[n:] == [(UIDS[0], "lock", None), (UIDS[0], "release", True)]
            # without UnlockConnectorOnEVSideDisconnect the socket keeps the cable
            r.store.put("ocpp", {"UnlockConnectorOnEVSideDisconnect": False})
            await r.event(UIDS[0], "session_release", [2, 5])
            await r.event(UIDS[0], "session_stop", [2, 9, 4, 1, 1, chargedefs.STOP_EV_DISCONNECTED])
            assert (UIDS[0], "unlock", None) not in r.ops.sent[n:]
            # a point in connected mode locks and unlocks by itself
            r.store.put("ocpp", {"UnlockConnectorOnEVSideDisconnect": True})
            r.set_live(UIDS[1], iec_state=chargedefs.STATE_B1)
            n = len(r.ops.sent)
            await r.event(UIDS[1], "rfid_read", "GOOD")
            await r.event(UIDS[1], "session_stop", [1, 5, 5, 1, 1, chargedefs.STOP_EV_DISCONNECTED])
            assert [c for c in r.ops.sent[n:] if c[1] in ("lock", "unlock")] == []

    run(scenario())


def test_inoperative_and_reserved_outlast_restarts_of_the_module_and_of_the_service(tmp_path: Path) -> None:
    """ChangeAvailability persists (OCPP 1.6): a module that restarted shows itself available again and is
    made unavailable again, as long as the connector is Inoperative; a reserved connector's module gets
    its `reserved` flag back; the service restarted on the same state does the same; the hold of
    AvailabilityOnlyWhenTimeSynchronized never makes an Inoperative connector available."""

    def sample(r: Rig, uid: str, **kw: Any) -> None:
        r.feed.on_live(topics.fill(topics.AGENT_LIVE, uid=uid), json.dumps(live(**kw)).encode())

    async def scenario() -> None:
        async with rig(tmp_path) as r:
            feed = asyncio.ensure_future(r.feed.run())
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            inoperative = call.ChangeAvailability(connector_id=1, type="Inoperative")
            assert (await r.cs_call(inoperative)).status == "Accepted"
            sample(r, UIDS[0], status="Unavailable", available=0)  # the module holds it
            n = len(r.ops.sent)
            sample(r, UIDS[0], available=1)  # it restarted and forgot
            await r.until("told again", lambda: (UIDS[0], "available", False) in r.ops.sent[n:])
            later = now_iso(time.time() + 3600)
            reserve = call.ReserveNow(connector_id=2, expiry_date=later, id_tag="RES", reservation_id=3)
            assert (await r.cs_call(reserve)).status == "Accepted"
            sample(r, UIDS[1], status="Reserved")
            n = len(r.ops.sent)
            sample(r, UIDS[1], status="Available")  # restarted: no longer reserved
            await r.until("reserved again", lambda: (UIDS[1], "reserved", True) in r.ops.sent[n:])
            assert (await r.cs_call(call.CancelReservation(reservation_id=3))).status == "Accepted"
            operative = call.ChangeAvailability(connector_id=1, type="Operative")
            assert (await r.cs_call(operative)).status == "Accepted"
            assert (
                await r.cs_call(call.ChangeAvailability(connector_id=2, type="Inoperative"))
            ).status == "Accepted"
            await asyncio.sleep(feed_mod.RESTORE_EVERY_S)  # past the resend's wait
            n = len(r.ops.sent)
            sample(r, UIDS[0], available=1)
            sample(r, UIDS[1], status="Available", available=1)
            await r.until("connector 2 told", lambda: (UIDS[1], "available", False) in r.ops.sent[n:])
            assert not [c for c in r.ops.sent[n:] if c[0] == UIDS[0] or c[1] == "reserved"]
            feed.cancel()
        async with rig(tmp_path, AvailabilityOnlyWhenTimeSynchronized=True) as r:  # the service restarted
            feed = asyncio.ensure_future(r.feed.run())
            await r.until("synchronized", lambda: r.timesync.synchronized)
            sample(r, UIDS[1], available=1)
            await r.until("still Inoperative", lambda: (UIDS[1], "available", False) in r.ops.sent[2:])
            assert (UIDS[0], "available", True) in r.ops.sent and (
                UIDS[1],
                "available",
                True,
            ) not in r.ops.sent
            feed.cancel()

    run(scenario())


def test_reset_is_tried_again_while_it_does_not_happen(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # No head runs on tmp_path: the supervisor does not answer, so each try fails (1 + ResetRetries).
    caplog.set_level(logging.WARNING, "chargepark.ocpp")
    start = time.monotonic()
    asyncio.run(restart_by_supervisor(tmp_path, "Hard", 3, wait_s=0.2))
    failed = [m for m in caplog.messages if m.startswith("Reset Hard failed: no running head")]
    assert len(failed) == 3 and time.monotonic() - start >= 0.4
    assert "Reset Hard: restarting all (try 3 of 3)" in caplog.messages


FRAMES = [
    ("not json", None),
    ('{"a": 1}', None),
    ('[2, "m1", "NoSuchAction", {}]', "NotImplemented"),
    ('[2, "m2", "CertificateSigned", {"certificateChain": "x"}]', "NotSupported"),  # security extension
    ('[2, "m3", "ChangeConfiguration", {"key": 1, "value": "2"}]', "TypeConstraintViolation"),
    ('[2, "m4", "ChangeConfiguration", {"key": "MaxCurrent"}]', "ProtocolError"),
    ('[2, "m5", "ChangeConfiguration", {"key": "MaxCurrent", "value": "16", "extra": 1}]', "FormationViolation"),
    ('[2, "m6"]', "ProtocolError"),
    ('[9, "m7", "Heartbeat", {}]', "PropertyConstraintViolation"),
    # dateTime fields whose format the schemas leave unchecked
    ('[2, "m8", "GetDiagnostics", {"location": "ftp://x/", "startTime": "yesterday"}]', "TypeConstraintViolation"),
    ('[2, "m9", "ReserveNow", {"connectorId": 1, "expiryDate": "2099-13-45", "idTag": "T", "reservationId": 1}]',
     "TypeConstraintViolation"),
]  # fmt: skip


@pytest.mark.parametrize(("frame", "code"), FRAMES)
def test_malformed_or_unknown_messages_get_their_callerror_and_the_link_stays(
    tmp_path: Path, frame: str, code: str | None
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            seen = len(r.cs.frames)
            await asyncio.to_thread(r.cs.send_raw, frame)
            if code is not None:
                answer = await r.until(
                    "the CALLERROR", lambda: [json.loads(f) for f in r.cs.frames[seen:] if f.startswith("[4")]
                )
                assert answer[0][2] == code and answer[0][1] == json.loads(frame)[1]
            # still connected and serving
            assert (await r.cs_call(call.GetConfiguration(key=["MaxCurrent"]))).configuration_key
            assert len(r.cs.paths) == 1

    run(scenario())


def test_a_callerror_to_status_notification_is_logged_and_the_link_stays(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            r.cs.refuse = ["StatusNotification"] * 3
            await r.until("three refused statuses", lambda: len(r.cs.refused) == 3)
            r.set_live(UIDS[0], status="Preparing")
            got = await r.until("the next change", lambda: [s for s in r.cs.actions("StatusNotification")
                                                             if s.payload["status"] == "Preparing"])  # fmt: skip
            assert got[0].unique_id not in r.cs.refused and len(r.cs.paths) == 1

    run(scenario())


def test_box_id_and_auth_header() -> None:
    from chargepark.ocpp.backend import auth_headers, box_id

    assert box_id("ws://h:8080/ocpp/CB%2001/") == "CB 01"
    assert auth_headers("u", "p") == {"Authorization": "Basic dTpw"} and auth_headers("", "") == {}


def test_every_chargedefs_name_has_its_ocpp_counterpart() -> None:
    from chargepark.ocpp import vocab

    assert set(vocab.STATUS) == set(chargedefs.STATUSES)
    assert {name for _m, name, _k in chargedefs.ERRORS} == set(vocab.ERROR)
    assert set(vocab.STOP_REASON) == set(chargedefs.STOP_REASONS)
    faults = [name for mask, name, _k in chargedefs.ERRORS if mask & chargedefs.ERRORS_FAULT]
    assert all(vocab.ERROR[n] != "NoError" for n in faults)  # a Faulted point always says why
    assert vocab.error_code(chargedefs.ERR_TEMP_DERATING | chargedefs.ERR_RCM_TRIP)[0] == "GroundFailure"
    with pytest.raises(ValueError):
        vocab.measurands("Energy.Active.Import.Register,RPM")


def test_a_vehicle_waiting_for_its_release_is_preparing_and_suspended_only_in_a_transaction(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            r.set_live(UIDS[0], status="SuspendedEVSE")
            await r.until(
                "Preparing",
                lambda: [s for s in r.cs.actions("StatusNotification") if s.payload["status"] == "Preparing"],
            )
            await r.event(UIDS[0], "session_release", [1, 0])
            got = await r.until(
                "SuspendedEVSE",
                lambda: [
                    s for s in r.cs.actions("StatusNotification") if s.payload["status"] == "SuspendedEVSE"
                ],
            )
            assert got[0].payload["connectorId"] == 1

    run(scenario())


def test_an_invalid_id_at_start_ends_the_transaction_and_a_lapsed_remote_start_is_withdrawn(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, ConnectionTimeOut=10) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            r.cs.invalid_tags = {"STOLEN"}
            assert (
                await r.cs_call(call.RemoteStartTransaction(id_tag="STOLEN", connector_id=1))
            ).status == "Accepted"
            await r.event(UIDS[0], "session_release", [1, 40])
            stop = await r.until("DeAuthorized", lambda: r.cs.actions("StopTransaction"))
            assert stop[0].payload["reason"] == "DeAuthorized" and (UIDS[0], "release", False) in r.ops.sent
            # a remote start whose vehicle never comes: released, then withdrawn after ConnectionTimeOut
            r.station.clock = lambda: time.time() - 11  # the start happened 11 s ago
            assert (
                await r.cs_call(call.RemoteStartTransaction(id_tag="T", connector_id=2))
            ).status == "Accepted"
            r.station.clock = time.time
            await r.until("withdrawn", lambda: (UIDS[1], "release", False) in r.ops.sent, 5)
            assert UIDS[1] not in r.station.pending

    run(scenario())


def test_a_session_stop_missed_while_the_service_was_down_is_mended_from_the_live_sample(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await r.event(UIDS[0], "session_release", [9, 500])
            topic = "applications/controller-agent/charging_controllers/%s/live" % UIDS[0]
            charging = live(
                status="Charging", energy_wh=520, iec_state=chargedefs.IEC_STATES.index("C2"), connected_s=60
            )
            r.feed.on_live(topic, json.dumps(charging).encode())
            gone = live(energy_wh=530, connected_s=0)  # no vehicle, no session: its session_stop was missed
            r.feed.on_live(topic, json.dumps(gone).encode())
            await asyncio.sleep(0.3)
            assert not r.cs.actions("StopTransaction")  # not at once: the event may still come
            r.station.clock = lambda: time.time() + 6
            r.feed.on_live(topic, json.dumps(gone).encode())
            stop = await r.until("mended stop", lambda: r.cs.actions("StopTransaction"))
            assert stop[0].payload["meterStop"] == 530 and stop[0].payload["reason"] == "EVDisconnected"
            r.feed.on_live(topic, json.dumps(gone).encode())
            await r.event(UIDS[0], "session_stop", [9, 530, 30, 60, 50, 0])  # late: nothing more
            await asyncio.sleep(1.2)
            assert len(r.cs.actions("StopTransaction")) == 1

    run(scenario())


def test_local_list_full_and_differential_cache_and_offline_authorization(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            assert (await r.cs_call(call.GetLocalListVersion())).list_version == 0
            full = [{"idTag": "LOCAL1", "idTagInfo": {"status": "Accepted"}},
                    {"idTag": "BLOCKED", "idTagInfo": {"status": "Blocked"}},
                    {"idTag": "OLD", "idTagInfo": {"status": "Accepted", "expiryDate": "2020-01-01T00:00:00Z"}},
                    {"idTag": "GONE", "idTagInfo": {"status": "Accepted"}}]  # fmt: skip
            sent = await r.cs_call(
                call.SendLocalList(list_version=3, update_type="Full", local_authorization_list=full)
            )
            assert (
                sent.status == "Accepted" and (await r.cs_call(call.GetLocalListVersion())).list_version == 3
            )
            stale = await r.cs_call(call.SendLocalList(list_version=3, update_type="Differential",
                                                       local_authorization_list=[{"idTag": "X"}]))  # fmt: skip
            assert stale.status == "VersionMismatch"
            diff = await r.cs_call(call.SendLocalList(list_version=4, update_type="Differential",
                                                      local_authorization_list=[{"idTag": "GONE"},
                                                      {"idTag": "NEW", "idTagInfo": {"status": "Accepted"}}]))  # fmt: skip
            assert (
                diff.status == "Accepted" and (await r.cs_call(call.GetLocalListVersion())).list_version == 4
            )
            assert r.station.auth.listed("GONE") is None and r.station.auth.listed("NEW") is not None
            # online: the backend decides and its answer is cached
            await r.event(UIDS[0], "rfid_read", "CACHED")
            assert r.ops.sent[-1] == (UIDS[0], "release", True) and r.station.auth.cached("CACHED")
            r.station.pending.clear()
            # LocalPreAuthorize: a tag the list accepts starts at once, without Authorize
            r.store.put("ocpp", {"LocalPreAuthorize": True})
            n = len(r.cs.actions("Authorize"))
            await r.event(UIDS[1], "rfid_read", "NEW")
            assert r.ops.sent[-1] == (UIDS[1], "release", True) and len(r.cs.actions("Authorize")) == n
            r.station.pending.clear()
            await asyncio.to_thread(r.cs.stop)
            await r.until("offline", lambda: not r.backend.online)
            for tag in ("UNKNOWN", "BLOCKED", "OLD", "GONE"):
                await r.event(UIDS[0], "rfid_read", tag)
                assert r.ops.sent[-1] == (UIDS[0], "rfid", [tag, False]), tag
            await r.event(UIDS[0], "rfid_read", "CACHED")  # the cache decides offline
            assert r.ops.sent[-1] == (UIDS[0], "release", True)
            r.station.pending.clear()
            r.store.put("ocpp", {"AuthorizationCacheEnabled": False})
            await r.event(UIDS[0], "rfid_read", "CACHED")
            assert r.ops.sent[-1] == (UIDS[0], "rfid", ["CACHED", False])
            await r.event(UIDS[0], "rfid_read", "LOCAL1")
            assert r.ops.sent[-1] == (UIDS[0], "release", True)
            await r.event(UIDS[0], "session_release", [2, 70])
            r.store.put("ocpp", {"LocalAuthorizeOffline": False, "AuthorizationCacheEnabled": True})
            await r.event(UIDS[1], "rfid_read", "LOCAL1")
            assert r.ops.sent[-1] == (UIDS[1], "rfid", ["LOCAL1", False])
            await asyncio.to_thread(r.cs.start)
            start = await r.until("the queued start", lambda: r.cs.actions("StartTransaction"), 40)
            assert start[0].payload["idTag"] == "LOCAL1" and start[0].payload["meterStart"] == 70
            assert (await r.cs_call(call.ClearCache())).status == "Accepted" and not r.station.auth.cached(
                "CACHED"
            )
            r.store.put("ocpp", {"LocalAuthListEnabled": False})
            assert (await r.cs_call(call.GetLocalListVersion())).list_version == -1
            off = await r.cs_call(call.SendLocalList(list_version=9, update_type="Full"))
            assert off.status == "NotSupported"

    run(scenario())


def test_reserve_now_cancel_and_expiry(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            later = now_iso(time.time() + 3600)
            ask = lambda c, rid, tag="RES1": call.ReserveNow(connector_id=c, expiry_date=later, id_tag=tag,  # noqa: E731
                                                               reservation_id=rid, parent_id_tag="FLEET")  # fmt: skip
            assert (await r.cs_call(ask(0, 1))).status == "Rejected"  # connector 0 cannot be reserved
            assert (await r.cs_call(ask(9, 1))).status == "Rejected"
            assert (await r.cs_call(ask(1, 1))).status == "Accepted"
            assert r.ops.sent[-1] == (UIDS[0], "reserved", True)
            assert (await r.cs_call(ask(1, 2))).status == "Occupied"  # reserved by another reservation
            assert (await r.cs_call(ask(1, 1, "RES1B"))).status == "Accepted"  # the same id replaces it
            assert r.station.reservations.at(1).id_tag == "RES1B"  # type: ignore[union-attr]
            r.set_live(UIDS[1], status="Faulted", error_bits=chargedefs.ERR_CONTACTOR)
            assert (await r.cs_call(ask(2, 3))).status == "Faulted"
            r.set_live(UIDS[1], status="Charging")
            assert (await r.cs_call(ask(2, 3))).status == "Occupied"
            r.set_live(UIDS[1])
            # another id is refused at the reserved connector, the reserved one (or its parent) is let in
            r.cs.parents = {"MEMBER": "FLEET"}
            assert (
                await r.cs_call(call.RemoteStartTransaction(id_tag="OTHER", connector_id=1))
            ).status == "Rejected"
            await r.event(UIDS[0], "rfid_read", "OTHER")
            assert r.ops.sent[-1] == (UIDS[0], "rfid", ["OTHER", False])
            await r.event(UIDS[0], "rfid_read", "MEMBER")
            assert r.ops.sent[-1] == (UIDS[0], "release", True)
            await r.event(UIDS[0], "session_release", [1, 10])
            start = await r.until("StartTransaction", lambda: r.cs.actions("StartTransaction"))
            assert start[0].payload["reservationId"] == 1 and start[0].payload["idTag"] == "MEMBER"
            assert r.ops.sent[-1] == (UIDS[0], "reserved", False) and r.station.reservations.at(1) is None
            # cancel, and expiry
            assert (await r.cs_call(ask(2, 4))).status == "Accepted"
            assert (await r.cs_call(call.CancelReservation(reservation_id=4))).status == "Accepted"
            assert r.ops.sent[-1] == (UIDS[1], "reserved", False)
            assert (await r.cs_call(call.CancelReservation(reservation_id=4))).status == "Rejected"
            soon = now_iso(time.time() + 1)
            got = await r.cs_call(
                call.ReserveNow(connector_id=2, expiry_date=soon, id_tag="T", reservation_id=5)
            )
            assert got.status == "Accepted"
            await r.until("expired", lambda: r.ops.sent[-1] == (UIDS[1], "reserved", False), 5)
            assert r.station.reservations.all() == []

    run(scenario())


def schedule(*pairs: tuple[int, float], start: float | None = None, unit: str = "A") -> dict[str, Any]:
    out: dict[str, Any] = {"charging_rate_unit": unit,
                           "charging_schedule_period": [{"start_period": s, "limit": v} for s, v in pairs]}  # fmt: skip
    if start is not None:
        out["start_schedule"] = now_iso(start)
    return out


def test_smart_charging_profiles_reach_the_limit_topic_and_the_composite_schedule(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, MaxCurrent=32) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await r.until("first limits", lambda: r.limit(UIDS[0]) == {"ma": 32000, "reason": "max_current"})
            # a TxDefaultProfile on connector 0 for every connector, 16 A now, 10 A two seconds later
            t0 = time.time()
            default = {"charging_profile_id": 1, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile",
                       "charging_profile_kind": "Absolute", "charging_schedule": schedule((0, 16), (2, 10), start=t0)}  # fmt: skip
            got = await r.cs_call(call.SetChargingProfile(connector_id=0, cs_charging_profiles=default))
            assert got.status == "Accepted"
            await r.until(
                "16 A", lambda: r.limit(UIDS[1]) == {"ma": 16000, "reason": "tx_default_profile"}, 3
            )
            at = await r.until("10 A at the period's start", lambda: [x[0] for x in r.published
                                                                    if x[1] == UIDS[1] and x[2]["ma"] == 10000], 5)  # fmt: skip
            assert 0 <= at[0] - (t0 + 2) < 0.5  # at the boundary, not at a later poll
            # a TxProfile needs a transaction; with one it overrides the default on its connector
            tx_profile = {"charging_profile_id": 2, "stack_level": 1, "charging_profile_purpose": "TxProfile",
                          "charging_profile_kind": "Relative", "charging_schedule": schedule((0, 20))}  # fmt: skip
            got = await r.cs_call(call.SetChargingProfile(connector_id=1, cs_charging_profiles=tx_profile))
            assert got.status == "Rejected"
            await r.event(UIDS[0], "session_release", [1, 0])
            await r.until(
                "transaction id", lambda: r.queue.running(UIDS[0]) and r.queue.running(UIDS[0]).tx_id
            )  # type: ignore[union-attr]
            tx_profile["transaction_id"] = 999
            assert (
                await r.cs_call(call.SetChargingProfile(connector_id=1, cs_charging_profiles=tx_profile))
            ).status == "Rejected"
            tx_profile["transaction_id"] = 1001
            assert (
                await r.cs_call(call.SetChargingProfile(connector_id=1, cs_charging_profiles=tx_profile))
            ).status == "Accepted"
            await r.until("TxProfile", lambda: r.limit(UIDS[0]) == {"ma": 20000, "reason": "tx_profile"}, 3)
            assert r.limit(UIDS[1]) == {"ma": 10000, "reason": "tx_default_profile"}
            bad = {**default, "charging_profile_id": 3, "charging_profile_purpose": "ChargePointMaxProfile"}
            assert (
                await r.cs_call(call.SetChargingProfile(connector_id=1, cs_charging_profiles=bad))
            ).status == "Rejected"
            # the charge box's cap, shared: one transaction has it whole, the other connector its share of two
            cap = {**bad, "stack_level": 0, "charging_schedule": schedule((0, 18), start=t0)}
            assert (
                await r.cs_call(call.SetChargingProfile(connector_id=0, cs_charging_profiles=cap))
            ).status == "Accepted"
            await r.until(
                "cap", lambda: r.limit(UIDS[0]) == {"ma": 18000, "reason": "charge_point_max_profile"}, 3
            )
            assert r.limit(UIDS[1]) == {"ma": 9000, "reason": "charge_point_max_profile"}
            composite = await r.cs_call(call.GetCompositeSchedule(connector_id=1, duration=600))
            assert composite.status == "Accepted" and composite.connector_id == 1
            assert composite.charging_schedule["charging_schedule_period"] == [
                {"start_period": 0, "limit": 18}
            ]
            watts = await r.cs_call(
                call.GetCompositeSchedule(connector_id=2, duration=60, charging_rate_unit="W")
            )
            assert watts.charging_schedule["charging_schedule_period"] == [{"start_period": 0, "limit": 6900}]
            assert (
                await r.cs_call(call.GetCompositeSchedule(connector_id=7, duration=60))
            ).status == "Rejected"
            # GlobalMaxCurrent is shared as well; the lowest limit names itself
            r.store.put("ocpp", {"GlobalMaxCurrent": 12})
            r.station.changed.set()
            await r.until(
                "global", lambda: r.limit(UIDS[1]) == {"ma": 6000, "reason": "global_max_current"}, 3
            )
            r.store.put("ocpp", {"GlobalMaxCurrent": 0})
            cleared = await r.cs_call(
                call.ClearChargingProfile(charging_profile_purpose="ChargePointMaxProfile")
            )
            assert cleared.status == "Accepted"
            assert (await r.cs_call(call.ClearChargingProfile(id=77))).status == "Unknown"
            await r.until("cap gone", lambda: r.limit(UIDS[0]) == {"ma": 20000, "reason": "tx_profile"}, 3)
            # the TxProfile ends with its transaction
            await r.event(UIDS[0], "session_stop", [1, 10, 10, 5, 5, chargedefs.STOP_EV_DISCONNECTED])
            await r.until(
                "default again", lambda: r.limit(UIDS[0]) == {"ma": 10000, "reason": "tx_default_profile"}, 3
            )
            assert [p.id for p in r.station.profiles.installed] == [1]
            # a remote start may bring its TxProfile
            remote = {**tx_profile, "charging_profile_id": 4}
            del remote["transaction_id"]
            got = await r.cs_call(
                call.RemoteStartTransaction(id_tag="T", connector_id=2, charging_profile=remote)
            )
            assert got.status == "Accepted" and [p.id for p in r.station.profiles.installed] == [1, 4]
            await r.event(UIDS[1], "session_release", [2, 0])
            await r.until(
                "remote TxProfile", lambda: r.limit(UIDS[1]) == {"ma": 20000, "reason": "tx_profile"}, 3
            )
            # the profiles survive a restart (they live in ocpp_state.db)
            assert [p.id for p in Profiles(r.state).installed] == [1, 4]

    run(scenario())


def test_update_firmware_and_get_diagnostics(tmp_path: Path) -> None:
    files = FileServer(tmp_path / "files")

    async def scenario() -> None:
        async with rig(tmp_path, PreUnavailabilityForUpdate=1) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            firmware_package(tmp_path / "files" / "fw.tar.gz", b"firmware v2" * 1000)
            (tmp_path / "files" / "junk.tar.gz").write_bytes(b"no tar")

            def statuses(action: str) -> list[str]:
                return [m.payload["status"] for m in r.cs.actions(action)]

            # a transaction runs: the download goes ahead, the install waits for it to end
            await r.event(UIDS[0], "session_release", [1, 0])
            r.installing.clear()
            await r.cs_call(call.UpdateFirmware(location=files.url("fw.tar.gz"), retrieve_date=now_iso()))
            await r.until(
                "downloaded", lambda: statuses("FirmwareStatusNotification") == ["Downloading", "Downloaded"]
            )
            await asyncio.sleep(1)
            assert not r.installs
            await r.event(UIDS[0], "session_stop", [1, 5, 5, 1, 1, chargedefs.STOP_EV_DISCONNECTED])
            await r.until("installing", lambda: r.installs, 15)
            assert [(u, v) for u, n, v in r.ops.sent if n == "available"] == [
                (UIDS[0], False),
                (UIDS[1], False),
            ]
            await r.cs_call(call.TriggerMessage(requested_message="FirmwareStatusNotification"))
            await r.until("triggered", lambda: statuses("FirmwareStatusNotification")[-1:] == ["Installing"]
                          and len(statuses("FirmwareStatusNotification")) == 4)  # fmt: skip
            r.installing.set()
            await r.until("installed", lambda: statuses("FirmwareStatusNotification")[-1:] == ["Installed"])
            assert [(u, v) for u, n, v in r.ops.sent if n == "available"][2:] == [
                (UIDS[0], True),
                (UIDS[1], True),
            ]
            assert not list((tmp_path / "fw").iterdir())  # the download is gone once installed
            # a missing file, a package that is none, an install a module refuses
            r.store.put("ocpp", {"PreUnavailabilityForUpdate": 0})
            for name, last, errors in (("nothing.tar.gz", "DownloadFailed", []), ("junk.tar.gz", "InstallationFailed", []),
                                       ("fw.tar.gz", "InstallationFailed", ["position 3: refused"])):  # fmt: skip
                r.install_errors = errors
                n = len(statuses("FirmwareStatusNotification"))
                await r.cs_call(
                    call.UpdateFirmware(
                        location=files.url(name), retrieve_date=now_iso(), retries=1, retry_interval=1
                    )
                )
                await r.until(
                    last, lambda n=n, last=last: statuses("FirmwareStatusNotification")[n:][-1:] == [last]
                )
            await r.cs_call(call.TriggerMessage(requested_message="FirmwareStatusNotification"))
            await r.until("idle", lambda: statuses("FirmwareStatusNotification")[-1] == "Idle")
            # diagnostics: FTP, HTTP PUT, and a server that is not there
            for location in (files.ftp_url("diag"), files.url("up/")):
                (tmp_path / "files" / "diag").mkdir(exist_ok=True)
                (tmp_path / "files" / "up").mkdir(exist_ok=True)
                n = len(statuses("DiagnosticsStatusNotification"))
                name = (await r.cs_call(call.GetDiagnostics(location=location))).file_name
                assert name.startswith("diagnostics-") and name.endswith(".zip")
                await r.until(
                    "uploaded",
                    lambda n=n: statuses("DiagnosticsStatusNotification")[n:] == ["Uploading", "Uploaded"],
                )
                stored = tmp_path / "files" / ("diag" if location.startswith("ftp") else "up") / name
                with zipfile.ZipFile(stored) as z:
                    assert z.read("ocpp16.log") == b"the message log\n"
            # startTime/stopTime: each log with its lines of that time only
            (tmp_path / "data" / "logs" / "ocpp16.log").write_bytes(
                b"2026-12-02T10:00:00.000Z ocpp16 INFO early\n2026-12-02T11:30:00.000Z ocpp16 INFO asked for\n"
                b"2026-12-02T13:00:00.000Z ocpp16 INFO late\n"
            )
            n = len(statuses("DiagnosticsStatusNotification"))
            name = (await r.cs_call(call.GetDiagnostics(location=files.url("up/"), start_time="2026-12-02T11:00:00Z",
                                                        stop_time="2026-12-02T13:00:00+01:00"))).file_name  # fmt: skip
            await r.until(
                "uploaded", lambda: statuses("DiagnosticsStatusNotification")[n:] == ["Uploading", "Uploaded"]
            )
            with zipfile.ZipFile(tmp_path / "files" / "up" / name) as z:
                assert z.read("ocpp16.log") == b"2026-12-02T11:30:00.000Z ocpp16 INFO asked for\n"
            await r.cs_call(call.GetDiagnostics(location="ftp://u:p@127.0.0.1:1/", retries=0))
            await r.until(
                "failed", lambda: statuses("DiagnosticsStatusNotification")[-1:] == ["UploadFailed"]
            )

    try:
        run(scenario())
    finally:
        files.close()


def test_charx_server_variables(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, AuthorizationUser="CB0001", EVDiscardTimeOut=30,
                       FreeMode=True, FreeModeUID="FREE", ServiceRestart=True, ServiceUID="SERVICE") as r:  # fmt: skip
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            some = await r.cs_call(call.GetConfiguration(key=["AuthorizationUser", "AuthorizationKey"]))
            assert [k["value"] for k in some.configuration_key] == ["****", "****"]
            # ServiceRestart: a vehicle found plugged in after the restart is registered under ServiceUID
            r.set_live(UIDS[1], iec_state=chargedefs.IEC_STATES.index("B2"))
            await r.feed.after_restart(0)
            assert r.cs.actions("Authorize")[-1].payload["idTag"] == "SERVICE"
            assert r.ops.sent[-1] == (UIDS[1], "release", True)
            # FreeMode: a plug-in is authorized at the backend with FreeModeUID and starts with it
            await r.event(UIDS[0], "session_start", [3, 100])
            assert r.cs.actions("Authorize")[-1].payload["idTag"] == "FREE"
            await r.event(UIDS[0], "session_release", [3, 100])
            start = await r.until("start", lambda: r.cs.actions("StartTransaction"))
            assert start[0].payload["idTag"] == "FREE"
            # EVDiscardTimeOut lapses a card's release
            r.station.clock = lambda: time.time() - 31
            await r.event(UIDS[1], "rfid_read", "04A1B2C3")
            assert r.cs.actions("Authorize")[-1].payload["idTag"] == "04A1B2C3"
            assert r.station.pending[UIDS[1]].timeout_key == "EVDiscardTimeOut"
            r.station.clock = time.time
            r.ops.sent.clear()
            await r.until("discarded", lambda: (UIDS[1], "release", False) in r.ops.sent, 5)
            # LogLevel
            assert (
                await r.cs_call(call.ChangeConfiguration(key="LogLevel", value="DEBUG"))
            ).status == "Accepted"
            assert logging.getLogger("ocpp").level == logging.DEBUG
            await r.cs_call(call.ChangeConfiguration(key="LogLevel", value="INFO"))
            assert logging.getLogger("chargepark.ocpp").level == logging.INFO

    run(scenario())


def test_the_journal_shows_the_link_the_connectors_and_the_last_50_messages(tmp_path: Path) -> None:
    from chargepark.ocpp import journal

    async def scenario() -> None:
        async with rig(tmp_path) as r:
            await r.until("booted", lambda: len(r.cs.actions("StatusNotification")) >= 3)
            for _ in range(29):
                await r.cs_call(call.GetConfiguration(key=["HeartbeatInterval"]))
            await r.cs_call(call.GetConfiguration(key=["MaxCurrent"]))

            def last_written() -> bool:  # the journal writes its frames FLUSH_S after the first
                messages = journal.read(tmp_path / journal.FILE)["messages"]
                return len(messages) > 1 and "MaxCurrent" in messages[1]["payload"]

            await r.until("the last call written", last_written, 5)
            seen = journal.read(tmp_path / journal.FILE)
            assert seen["link"]["online"] is True and seen["link"]["url"] == r.cs.url
            assert [(c["connector"], c["uid"], c["status"]) for c in seen["connectors"]] == [
                (0, "", "Available"), (1, UIDS[0], "Available"), (2, UIDS[1], "Available")]  # fmt: skip
            messages = seen["messages"]
            assert len(messages) == 50  # the last 50, newest first
            newest = messages[0]
            assert (newest["direction"], newest["type"], newest["action"]) == (
                "out",
                "CALLRESULT",
                "GetConfiguration",
            )
            assert messages[1]["direction"] == "in" and messages[1]["type"] == "CALL"
            assert (
                messages[1]["message_id"] == newest["message_id"] and "MaxCurrent" in messages[1]["payload"]
            )
            await asyncio.to_thread(r.cs.stop)
            await r.until("offline", lambda: journal.read(tmp_path / journal.FILE)["link"]["online"] is False)
            assert journal.read(tmp_path / journal.FILE)["link"]["error"]

    run(scenario())


def test_authorize_remote_tx_requests(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, AuthorizeRemoteTxRequests=True) as r:
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            r.cs.invalid_tags = {"STOLEN"}
            got = await r.cs_call(call.RemoteStartTransaction(id_tag="STOLEN", connector_id=1))
            assert got.status == "Accepted"
            await r.until(
                "Authorize", lambda: [a for a in r.cs.actions("Authorize") if a.payload["idTag"] == "STOLEN"]
            )
            await r.until("dropped", lambda: UIDS[0] not in r.station.pending, 5)
            assert (UIDS[0], "release", True) not in r.ops.sent
            got = await r.cs_call(call.RemoteStartTransaction(id_tag="FINE", connector_id=1))
            await r.until("released after Authorize", lambda: (UIDS[0], "release", True) in r.ops.sent, 5)
            assert [a.payload["idTag"] for a in r.cs.actions("Authorize")] == ["STOLEN", "FINE"]
            assert r.station.pending[UIDS[0]].id_tag == "FINE" and r.station.auth.cached("FINE")

    run(scenario())


def test_minimum_status_duration(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, MinimumStatusDuration=2) as r:
            await r.until("booted", lambda: len(r.cs.actions("StatusNotification")) >= 3)
            r.set_live(UIDS[0], status="Preparing")
            await asyncio.sleep(0.8)
            r.set_live(UIDS[0])  # back before it lasted 2 s: never sent
            r.set_live(UIDS[1], status="Preparing")
            sent = await r.until(
                "held 2 s",
                lambda: [s for s in r.cs.actions("StatusNotification") if s.payload["status"] == "Preparing"],
                6,
            )
            assert [s.payload["connectorId"] for s in sent] == [2]
            assert sent[0].at - r.cs.actions("StatusNotification")[2].at >= 2.5

    run(scenario())


def test_time_follows_the_backend(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, AvailabilityOnlyWhenTimeSynchronized=True, interval=3600) as r:
            # no interval heartbeat: each one here is triggered and answered before the next step
            r.cs.time_offset = 3600.0  # the backend's clock is an hour ahead
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            assert r.ops.sent[:2] == [(UIDS[0], "available", False), (UIDS[1], "available", False)]
            assert len(r.clock_set) == 1 and abs(r.clock_set[0] - (time.time() + 3600)) < 5
            assert {(u, v) for u, n, v in r.ops.sent if n == "available" and v} == {
                (UIDS[0], True),
                (UIDS[1], True),
            }
            # during a transaction only with AllowTimeSyncDuringSession
            await r.event(UIDS[0], "session_release", [1, 0])
            await r.cs_call(call.TriggerMessage(requested_message="Heartbeat"))
            # each step waits for the answer to be handled, not just for the request to arrive
            await r.until("heartbeat answered", lambda: r.timesync.heard == 2)
            assert len(r.clock_set) == 1
            r.store.put("ocpp", {"AllowTimeSyncDuringSession": True})
            await r.cs_call(call.TriggerMessage(requested_message="Heartbeat"))
            await r.until("second heartbeat answered", lambda: r.timesync.heard == 3)
            assert len(r.clock_set) == 2
            r.cs.time_offset = 0.5  # within the tolerance: left alone
            await r.cs_call(call.TriggerMessage(requested_message="Heartbeat"))
            await r.until("third heartbeat answered", lambda: r.timesync.heard == 4)
            assert len(r.clock_set) == 2

    run(scenario())


def test_clock_aligned_meter_values(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with rig(tmp_path, ClockAlignedDataInterval=2, MeterValuesAlignedData="Energy.Active.Import.Register",
                       StopTxnAlignedData="Energy.Active.Import.Register,Voltage") as r:  # fmt: skip
            await r.until("booted", lambda: r.cs.actions("StatusNotification"))
            await r.event(UIDS[0], "session_release", [1, 1000])

            def aligned() -> list[Any]:
                return [m for m in r.cs.actions("MeterValues")
                        if m.payload["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"]  # fmt: skip

            got = await r.until("two aligned rounds", lambda: len(aligned()) >= 4 and aligned(), 10)
            for m in got:
                stamp = m.payload["meterValue"][0]["timestamp"]  # within the even second it is aligned to
                assert int(stamp[17:19]) % 2 == 0, stamp
            assert {m.payload.get("transactionId") for m in got} == {None, 1001}  # the transaction's queued
            await r.event(UIDS[0], "session_stop", [1, 1100, 100, 9, 9, chargedefs.STOP_EV_DISCONNECTED])
            stop = await r.until("stop", lambda: r.cs.actions("StopTransaction"))
            values = stop[0].payload["transactionData"][0]["sampledValue"]
            assert {(v["measurand"], v["context"]) for v in values} == {
                ("Energy.Active.Import.Register", "Sample.Clock"), ("Voltage", "Sample.Clock")}  # fmt: skip

    run(scenario())
