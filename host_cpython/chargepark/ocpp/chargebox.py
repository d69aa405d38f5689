"""The charge box on one backend connection: the `ocpp` package's ChargePoint with a handler for each
request of the Central System (`@on`), the calls we make, and the CALLERRORs the standard prescribes for a
message that cannot be handled (the package answers schema violations; a frame that is not OCPP at all is
answered here when it carries a message id, and never ends the connection)."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.exceptions import NotImplementedError, NotSupportedError, OCPPError, TypeConstraintViolationError
from ocpp.messages import CallError, MessageType, unpack
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargingProfileStatus,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    DataTransferStatus,
    GetCompositeScheduleStatus,
    MessageTrigger,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
)

from chargepark import pointops
from chargepark.ocpp import keys, vocab
from chargepark.ocpp import smartcharging as sc
from chargepark.ocpp.firmware import FirmwareManagement
from chargepark.ocpp.reservations import Reservation
from chargepark.ocpp.station import Pending, Station, now_iso
from chargepark.ocpp.timesync import TimeSync

log = logging.getLogger("chargepark.ocpp")
ACTIONS = {a.value for a in Action}
F = TypeVar("F", bound=Callable[..., Any])


def _moment(name: str, text: str | None) -> datetime.datetime | None:
    """A dateTime field of a CALL; one that is none is refused (the schema leaves its format unchecked)."""
    try:
        return None if text is None else vocab.moment(text)
    except ValueError:
        raise TypeConstraintViolationError(description="%s: not a dateTime: %.40r" % (name, text)) from None


def handles(action: Action) -> Callable[[F], F]:
    """`ocpp.routing.on`, typed."""
    return cast(Callable[[F], F], on(action))


def then(action: Action) -> Callable[[F], F]:
    """`ocpp.routing.after`, typed: runs once the answer is sent."""
    return cast(Callable[[F], F], after(action))


# OCPP 1.6 spells the error of a malformed payload FormationViolation; the package uses 2.0's name.
# (and OccurenceConstraintViolation with its typo).
CODE_16 = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}


class ChargeBox(ChargePoint):  # type: ignore[misc]  # the ocpp package is untyped
    def __init__(
        self,
        box_id: str,
        connection: Any,
        station: Station,
        ops: pointops.PointOps,
        restart: Callable[[str], Awaitable[None]],
        wake: asyncio.Event,
        firmware: FirmwareManagement,
        timesync: TimeSync,
        response_timeout: float = 10,
    ) -> None:
        super().__init__(box_id, connection, response_timeout=response_timeout)
        self.firmware = firmware
        self.timesync = timesync
        self.station = station
        self.ops = ops
        self.restart = restart  # Reset: restart the service ("Soft"/"Hard")
        self.wake = wake  # the sender has something new to send
        self.heartbeat_s = float(station.settings()["HeartbeatInterval"])
        self.triggered: list[str] = []  # TriggerMessage requests for the sender
        self.diagnostics_name = ""  # the file GetDiagnostics answered, for its upload
        self.authorizing: dict[str, str] = {}  # AuthorizeRemoteTxRequests: idTag -> the uid it may release
        self.answering = 0  # requests of the Central System being handled, their answers not sent yet

    # ---- framing ----------------------------------------------------------------------------------

    async def _handle_call(self, msg: Any) -> None:
        self.answering += 1  # a move to NewBackendURL waits for the answer (of its ChangeConfiguration)
        try:
            await super()._handle_call(msg)
        finally:
            self.answering -= 1

    async def call(
        self,
        payload: Any,
        suppress: bool = True,
        unique_id: str | None = None,
        skip_schema_validation: bool = False,
    ) -> Any:
        answer = await super().call(payload, suppress, unique_id, skip_schema_validation)
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # the package's wait_for swallowed a cancel (gh-86296)
            raise asyncio.CancelledError
        return answer

    async def route_message(self, raw_msg: str) -> None:
        self.station.journal.frame("in", raw_msg)
        try:
            msg = unpack(raw_msg)
        except OCPPError as error:
            await self._refuse_frame(raw_msg, error)
            return
        if msg.message_type_id == MessageType.Call and msg.action not in self.route_map:
            # 1.6: NotSupported = an action we know but do not support, NotImplemented = one we do not know
            # (the package answers the other way round).
            refusal = NotSupportedError() if msg.action in ACTIONS else NotImplementedError()
            await self._send(msg.create_call_error(refusal).to_json())
            return
        await super().route_message(raw_msg)

    async def _refuse_frame(self, raw: str, error: OCPPError) -> None:
        """A frame that is no OCPP message: a CALLERROR when we can tell its message id, else only logged."""
        try:
            msg = json.loads(raw)
            unique_id = msg[1] if isinstance(msg, list) and len(msg) > 1 and isinstance(msg[1], str) else None
        except ValueError:
            unique_id = None
        log.warning("not an OCPP message (%s): %.200s", error.code, raw)
        if unique_id is not None:
            await self._send(
                CallError(unique_id, error.code, error.description, error.details or {}).to_json()
            )

    async def _send(self, message: str) -> None:
        if message.startswith("[%d," % MessageType.CallError):
            frame = json.loads(message)
            frame[2] = CODE_16.get(frame[2], frame[2])
            frame[4] = {k: str(v) for k, v in (frame[4] or {}).items()}  # details must be JSON
            message = json.dumps(frame)
        self.station.journal.frame("out", message)
        await super()._send(message)

    # ---- Core: requests of the Central System -------------------------------------------------------

    def _uid(self, connector: int) -> str | None:
        return self.station.connectors.get(connector)

    @handles(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        found, unknown = keys.get(self.station.store, len(self.station.connectors), key)
        return call_result.GetConfiguration(configuration_key=found, unknown_key=unknown or None)

    @handles(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        status = keys.change(self.station.store, key, value)
        if key == "HeartbeatInterval" and status == "Accepted":
            self.heartbeat_s = float(value)
        self.station.apply_log_level()
        self.wake.set()
        return call_result.ChangeConfiguration(status=status)

    @handles(Action.remote_start_transaction)
    async def on_remote_start(self, id_tag: str, connector_id: int | None = None,
                              charging_profile: dict[str, Any] | None = None) -> call_result.RemoteStartTransaction:  # fmt: skip
        if connector_id is None:  # any free connector
            connector_id = next((c for c, u in self.station.connectors.items()
                                 if self.station.queue.running(u) is None and u not in self.station.pending), None)  # fmt: skip
        uid = self._uid(connector_id or 0)
        if uid is None or self.station.queue.running(uid) is not None or uid in self.station.pending:
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        if self.station.status(connector_id or 0).status in ("Unavailable", "Faulted"):
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        reservation = self.station.reservations.at(connector_id or 0)
        parent = (self.station.local_info(id_tag) or {}).get("parentIdTag")
        if reservation is not None and not reservation.admits(id_tag, parent):
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        if charging_profile is not None:  # a TxProfile for the transaction this starts
            body = snake_to_camel_case(charging_profile)
            if (
                body["chargingProfilePurpose"] != sc.TX
                or self._install(connector_id or 0, body) != "Accepted"
            ):
                return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        self.station.pending[uid] = Pending(
            id_tag, self.station.clock(), reservation.reservation_id if reservation else None
        )
        if self.station.settings()["AuthorizeRemoteTxRequests"]:
            self.authorizing[id_tag] = uid  # released once the id is authorized (after_remote_start)
        elif not await self._release(uid):
            return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.rejected)
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    @then(Action.remote_start_transaction)
    async def after_remote_start(self, id_tag: str, connector_id: int | None = None,
                                 charging_profile: dict[str, Any] | None = None) -> None:  # fmt: skip
        """AuthorizeRemoteTxRequests: the id is authorized like a card's (at the backend; its IdTagInfo
        cached) before the point is released; refused, the remote start is dropped."""
        uid = self.authorizing.pop(id_tag, None)
        if uid is None:
            return
        try:
            info = await self.authorize(id_tag)
            self.station.remember(id_tag, info)
        except (TimeoutError, OCPPError) as e:
            log.warning("Authorize %s of a remote start: %s", id_tag, e)
            info = self.station.local_info(id_tag) or {}
        if info.get("status") != "Accepted" or not await self._release(uid):
            log.info("remote start of %s at %s: %s", id_tag, uid, info.get("status"))
            self.station.pending.pop(uid, None)
            self.station.profiles.end_transaction(self.station.connector_of(uid) or 0)

    async def _release(self, uid: str) -> bool:
        try:
            await self.station.release(self.ops, uid)
        except pointops.CommandError as e:
            self.station.pending.pop(uid, None)
            log.warning("remote start at %s: %s", uid, e.reason)
            return False
        return True

    @handles(Action.remote_stop_transaction)
    async def on_remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        tx = self.station.queue.by_tx_id(transaction_id)
        if tx is None:
            return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.rejected)
        try:
            await self.ops.command(tx.uid, "release", False)
        except pointops.CommandError as e:
            log.warning("remote stop at %s: %s", tx.uid, e.reason)
            return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.rejected)
        self.station.end(tx, "Remote")
        self.wake.set()
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus.accepted)

    @handles(Action.change_availability)
    async def on_change_availability(self, connector_id: int, type: str) -> call_result.ChangeAvailability:
        uids = list(self.station.connectors.values()) if connector_id == 0 else [self._uid(connector_id)]
        if None in uids:
            return call_result.ChangeAvailability(status=AvailabilityStatus.rejected)
        on_ = type == AvailabilityType.operative
        scheduled = False
        for uid in uids:
            assert uid is not None
            if self.station.queue.running(uid) is not None:
                self.station.scheduled_availability[uid] = on_
                scheduled = True
                continue
            try:
                await self.ops.command(uid, "available", on_)
            except pointops.CommandError as e:
                log.warning("availability of %s: %s", uid, e.reason)
                return call_result.ChangeAvailability(status=AvailabilityStatus.rejected)
        connectors = list(self.station.connectors) if connector_id == 0 else [connector_id]
        self.station.availability.set(connectors, on_)  # it persists a restart of the head or the module
        status = AvailabilityStatus.scheduled if scheduled else AvailabilityStatus.accepted
        return call_result.ChangeAvailability(status=status)

    @handles(Action.unlock_connector)
    async def on_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        uid = self._uid(connector_id)
        if uid is None:
            return call_result.UnlockConnector(status=UnlockStatus.not_supported)
        # With a transaction the module ends it first (StopTransaction reason UnlockCommand follows from its
        # session_stop); it never unlocks under load.
        name = "enforce_unlock" if self.station.queue.running(uid) is not None else "unlock"
        try:
            await self.ops.command(uid, name, True if name == "enforce_unlock" else None)
        except pointops.CommandError as e:
            log.warning("unlock %s: %s", uid, e.reason)
            return call_result.UnlockConnector(status=UnlockStatus.unlock_failed)
        return call_result.UnlockConnector(status=UnlockStatus.unlocked)

    @handles(Action.reset)
    def on_reset(self, type: str) -> call_result.Reset:
        return call_result.Reset(status=ResetStatus.accepted)

    @then(Action.reset)
    async def after_reset(self, type: str) -> None:
        await self.restart(type)

    @handles(Action.clear_cache)
    def on_clear_cache(self) -> call_result.ClearCache:
        self.station.auth.clear_cache()
        return call_result.ClearCache(status=ClearCacheStatus.accepted)

    # ---- Local Auth List Management -----------------------------------------------------------------

    @handles(Action.send_local_list)
    def on_send_local_list(self, list_version: int, update_type: str,
                           local_authorization_list: list[dict[str, Any]] | None = None) -> call_result.SendLocalList:  # fmt: skip
        if not self.station.settings()["LocalAuthListEnabled"]:
            return call_result.SendLocalList(status=UpdateStatus.not_supported)
        entries = [snake_to_camel_case(e) for e in local_authorization_list or []]
        return call_result.SendLocalList(status=self.station.auth.send(list_version, update_type, entries))

    @handles(Action.get_local_list_version)
    def on_get_local_list_version(self) -> call_result.GetLocalListVersion:
        enabled = self.station.settings()["LocalAuthListEnabled"]
        return call_result.GetLocalListVersion(list_version=self.station.auth.version() if enabled else -1)

    # ---- Firmware Management ------------------------------------------------------------------------

    @handles(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, retries: int | None = None,
                           retry_interval: int | None = None) -> call_result.UpdateFirmware:  # fmt: skip
        return call_result.UpdateFirmware()

    @then(Action.update_firmware)
    def after_update_firmware(self, location: str, retrieve_date: str, retries: int | None = None,
                              retry_interval: int | None = None) -> None:  # fmt: skip
        at = sc.epoch(retrieve_date) or 0.0
        self.firmware.spawn(self.firmware.update(location, at, retries, retry_interval))

    @handles(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, retries: int | None = None, retry_interval: int | None = None,
                           start_time: str | None = None, stop_time: str | None = None) -> call_result.GetDiagnostics:  # fmt: skip
        _moment("startTime", start_time), _moment("stopTime", stop_time)  # refused before it is answered
        self.diagnostics_name = self.firmware.diagnostics_name()
        return call_result.GetDiagnostics(file_name=self.diagnostics_name)

    @then(Action.get_diagnostics)
    def after_get_diagnostics(self, location: str, retries: int | None = None, retry_interval: int | None = None,
                              start_time: str | None = None, stop_time: str | None = None) -> None:  # fmt: skip
        self.firmware.spawn(self.firmware.upload(location, self.diagnostics_name, retries, retry_interval,
                                                 _moment("startTime", start_time), _moment("stopTime", stop_time)))  # fmt: skip

    # ---- Smart Charging -------------------------------------------------------------------------------

    @handles(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> call_result.SetChargingProfile:  # fmt: skip
        body = snake_to_camel_case(cs_charging_profiles)
        uid = self._uid(connector_id)
        if connector_id != 0 and uid is None:
            return call_result.SetChargingProfile(status=ChargingProfileStatus.rejected)
        if body["chargingProfilePurpose"] == sc.TX:
            tx = self.station.queue.running(uid) if uid else None
            wanted = body.get("transactionId")
            if tx is None or (wanted is not None and wanted != tx.tx_id):
                log.info("TxProfile refused: no such transaction at connector %d", connector_id)
                return call_result.SetChargingProfile(status=ChargingProfileStatus.rejected)
        return call_result.SetChargingProfile(status=self._install(connector_id, body))

    def _install(self, connector: int, body: dict[str, Any]) -> ChargingProfileStatus:
        try:
            self.station.profiles.set(connector, body)
        except sc.Refused as e:
            log.info("charging profile %s refused: %s", body.get("chargingProfileId"), e)
            return ChargingProfileStatus.rejected
        self.station.changed.set()
        return ChargingProfileStatus.accepted

    @handles(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id: int | None = None, connector_id: int | None = None,
                                  charging_profile_purpose: str | None = None,
                                  stack_level: int | None = None) -> call_result.ClearChargingProfile:  # fmt: skip
        gone = self.station.profiles.clear(id, connector_id, charging_profile_purpose, stack_level)
        self.station.changed.set()
        status = ClearChargingProfileStatus.accepted if gone else ClearChargingProfileStatus.unknown
        return call_result.ClearChargingProfile(status=status)

    @handles(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id: int, duration: int,
                                  charging_rate_unit: str | None = None) -> call_result.GetCompositeSchedule:  # fmt: skip
        uid = self._uid(connector_id)
        if connector_id != 0 and uid is None:
            return call_result.GetCompositeSchedule(status=GetCompositeScheduleStatus.rejected)
        s = self.station.settings()
        tx = self.station.queue.running(uid) if uid else None
        ceiling = float(s["MaxCurrent"]) * (len(self.station.connectors) if connector_id == 0 else 1)
        if s["GlobalMaxCurrent"]:
            ceiling = min(ceiling, float(s["GlobalMaxCurrent"]))
        t0 = self.station.clock()
        periods = sc.composite(self.station.profiles.installed, connector_id, t0, duration,
                               tx.tx_id if tx else None, tx.started if tx else None, ceiling)  # fmt: skip
        unit = charging_rate_unit or "A"
        per_amp = 1.0 if unit == "A" else sc.VOLT * 3
        schedule = {"duration": duration, "start_schedule": now_iso(t0), "charging_rate_unit": unit,
                    "charging_schedule_period": [{"start_period": start, "limit": round(v * per_amp, 1)}
                                                 for start, v in periods]}  # fmt: skip
        return call_result.GetCompositeSchedule(status=GetCompositeScheduleStatus.accepted, connector_id=connector_id,
                                                schedule_start=now_iso(t0), charging_schedule=schedule)  # fmt: skip

    # ---- Reservation ----------------------------------------------------------------------------------

    @handles(Action.reserve_now)
    async def on_reserve_now(self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int,
                             parent_id_tag: str | None = None) -> call_result.ReserveNow:  # fmt: skip
        expiry = _moment("expiryDate", expiry_date)
        status = self._reservable(connector_id, reservation_id)
        if status == ReservationStatus.accepted and expiry is not None:  # (a required field: it is there)
            r = Reservation(reservation_id, connector_id, id_tag, parent_id_tag, now_iso(expiry.timestamp()))
            self.station.reservations.put(r)
            uid = self.station.connectors[connector_id]
            try:
                await self.ops.command(uid, "reserved", True)
            except pointops.CommandError as e:
                log.warning("reserve %s: %s", uid, e.reason)
                self.station.reservations.remove(reservation_id)
                status = ReservationStatus.rejected
        return call_result.ReserveNow(status=status)

    def _reservable(self, connector: int, reservation_id: int) -> ReservationStatus:
        uid = self._uid(connector)  # connector 0: ReserveConnectorZeroSupported is false
        if uid is None:
            return ReservationStatus.rejected
        status = self.station.status(connector).status
        if status in ("Faulted", "Unavailable"):
            return ReservationStatus(status)
        other = self.station.reservations.at(connector)
        if other is not None and other.reservation_id != reservation_id:
            return ReservationStatus.occupied
        busy = self.station.queue.running(uid) is not None or uid in self.station.pending
        if busy or status not in ("Available", "Reserved"):
            return ReservationStatus.occupied
        return ReservationStatus.accepted

    @handles(Action.cancel_reservation)
    async def on_cancel_reservation(self, reservation_id: int) -> call_result.CancelReservation:
        r = self.station.reservations.by_id(reservation_id)
        if r is None:
            return call_result.CancelReservation(status=CancelReservationStatus.rejected)
        self.station.reservations.remove(reservation_id)
        await self.unreserve(r.connector)
        return call_result.CancelReservation(status=CancelReservationStatus.accepted)

    async def unreserve(self, connector: int) -> None:
        uid = self._uid(connector)
        if uid is not None:
            try:
                await self.ops.command(uid, "reserved", False)
            except pointops.CommandError as e:
                log.warning("unreserve %s: %s", uid, e.reason)

    @handles(Action.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)  # no vendor extension

    @handles(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None
    ) -> call_result.TriggerMessage:
        if connector_id is not None and connector_id != 0 and connector_id not in self.station.connectors:
            return call_result.TriggerMessage(status=TriggerMessageStatus.rejected)
        self.triggered.append(json.dumps([requested_message, connector_id]))
        self.wake.set()
        return call_result.TriggerMessage(status=TriggerMessageStatus.accepted)

    # ---- calls to the Central System ---------------------------------------------------------------

    async def send_triggered(self) -> None:
        while self.triggered:
            what, connector = json.loads(self.triggered.pop(0))
            if what == MessageTrigger.boot_notification:
                await self.boot_once()
            elif what == MessageTrigger.heartbeat:
                await self.heartbeat()
            elif what == MessageTrigger.status_notification:
                for c in [connector] if connector is not None else [0, *self.station.connectors]:
                    await self.status_notification(c)
            elif what == MessageTrigger.meter_values:
                for tx, c, mv in self.station.sample("Trigger"):
                    if connector in (None, c):
                        await self.call(call.MeterValues(connector_id=c, meter_value=camel_to_snake_case(mv),
                                                         transaction_id=tx.tx_id if tx else None))  # fmt: skip
            elif what == MessageTrigger.diagnostics_status_notification:
                await self.call(call.DiagnosticsStatusNotification(status=self.firmware.diagnostics))
            elif what == MessageTrigger.firmware_status_notification:
                await self.call(call.FirmwareStatusNotification(status=self.firmware.firmware))

    async def boot_once(self) -> call_result.BootNotification:
        s = self.station.settings()
        answer = await self.call(call.BootNotification(
            charge_point_model=s["ChargePointModel"], charge_point_vendor=s["ChargePointVendor"],
            charge_point_serial_number=s["ChargePointSerialNumber"] or None,
            charge_box_serial_number=s["ChargePointSerialNumber"] or None,
        ), suppress=False)  # fmt: skip
        if answer.status == "Accepted" and answer.interval > 0:
            self.heartbeat_s = float(answer.interval)
        if answer.status == "Accepted":
            await self.timesync.backend_time(answer.current_time)
        return answer

    async def heartbeat(self) -> None:
        answer = await self.call(call.Heartbeat(), suppress=False)
        await self.timesync.backend_time(answer.current_time)

    async def status_notification(self, connector: int) -> None:
        """Sent once per change: a CALLERROR answer is logged, not repeated."""
        status = self.station.status(connector)
        fields = status.payload(connector, now_iso())
        self.station.journal.status(connector, self.station.connectors.get(connector, ""), fields)
        payload = call.StatusNotification(**camel_to_snake_case(fields))
        try:
            await self.call(payload, suppress=False)
        except OCPPError as e:
            log.warning("StatusNotification of connector %d refused: %s", connector, e.code)
        self.station.sent[connector] = status

    async def authorize(self, id_tag: str) -> dict[str, Any]:
        """The backend's IdTagInfo of the tag (OCPP JSON names)."""
        answer = await self.call(call.Authorize(id_tag=id_tag), suppress=False)
        return dict(snake_to_camel_case(answer.id_tag_info))
