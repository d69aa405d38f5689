"""The points' events and live samples in, transactions and status changes out (the service wires it to the
controller agent's topics)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import chargedefs
import websockets
from ocpp.exceptions import OCPPError

from chargepark import pointops, topics
from chargepark.ocpp import eichrecht, vocab
from chargepark.ocpp.backend import Backend
from chargepark.ocpp.station import SIGNED_LATE, Pending, Signing

log = logging.getLogger("chargepark.ocpp")
# our own work items beside the module's events: no module event has these names
RESUME = "(resume)"
RESTORE = "(restore)"
RESTORE_EVERY_S = 5.0  # a module that still shows what it forgot is told again after this long


class Feed:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.station = backend.station
        self.events: asyncio.Queue[tuple[str, str, Any]] = asyncio.Queue()
        self._timers: set[asyncio.Task[None]] = set()
        self.restored: dict[str, float] = {}  # uid -> when it was last told what it forgot
        self.station.later = self._later

    def on_live(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_LIVE)
        try:
            live = json.loads(raw)
        except ValueError:
            return
        if uid is None or not isinstance(live, dict):
            return
        before = self.station.live.get(uid, {})
        if uid not in self.station.live:
            self.station.unsure.add(uid)  # the first sample since this service started
        self.station.live[uid] = live
        if self.station.lost_release(uid) is not None:
            self.events.put_nowait((uid, RESUME, None))
        now = self.station.clock()
        if self.station.forgotten(uid) and now - self.restored.get(uid, -RESTORE_EVERY_S) >= RESTORE_EVERY_S:
            self.restored[uid] = now
            self.events.put_nowait((uid, RESTORE, None))
        if self.station.mend(uid) or any(
            before.get(k) != live.get(k) for k in ("status", "error_bits", "online")
        ):
            self.backend.status_due.set()
            self.backend.wake.set()

    def on_event(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.AGENT_EVENT)
        try:
            msg = json.loads(raw)
            name, arg = str(msg["event"]), msg.get("arg")
        except (ValueError, KeyError, TypeError):
            return
        if uid is not None and self.station.connector_of(uid) is not None:
            self.events.put_nowait((uid, name, arg))

    async def run(self) -> None:
        while True:
            uid, name, arg = await self.events.get()
            try:
                await self.handle(uid, name, arg)
            except (ValueError, TypeError, IndexError, KeyError) as e:
                log.warning("event %s of %s (%r): %s", name, uid, arg, e)

    async def handle(self, uid: str, name: str, arg: Any) -> None:
        st = self.station
        if name == "session_release":
            pending = st.pending.get(uid)
            if (
                st.on_release(uid, int(arg[0]), int(arg[1]))
                and pending
                and pending.reservation_id is not None
            ):
                st.reservations.remove(pending.reservation_id)  # used: its StartTransaction names it
                await self.command(uid, "reserved", False)
        elif name == "session_stop":
            stop = [int(v) for v in arg]
            tx = st.queue.running(uid)
            waiting = st.signing.get(uid)
            if waiting is not None and waiting.session == stop[0]:
                pass  # the head's own stop waits for the record already; its reason stands
            elif tx is not None and tx.session == stop[0] and eichrecht.signs(st.store, st.settings(), uid):
                st.await_signed(uid, Signing(stop[0], stop))  # its StopTransaction waits for the record
            else:
                await self.stopped(uid, stop)
            if stop[5] == chargedefs.STOP_EV_DISCONNECTED:
                await self.vehicle_left(uid)
        elif name == "meter_signed":  # [session, OCMF record or "", 0 or why not]
            if int(arg[2]):
                log.warning("point %s: its meter did not sign session %s (%s)", uid, arg[0], arg[2])
            await self.signed(uid, int(arg[0]), str(arg[1]) if not int(arg[2]) else "")
        elif name == SIGNED_LATE:
            if uid in st.signing and st.signing[uid].session == arg:
                log.warning("point %s: no signed record for session %s: stopping without", uid, arg)
            await self.signed(uid, arg, "")
        elif name == "ea_message":
            st.info[uid] = str(arg)
            if arg == vocab.EMERGENCY_STOP:
                st.emergency.add(uid)
        elif name == "rfid_read":  # the module ordered the UID (RFIDByteOrder/RFIDCharacterOrder, its fields)
            await self.card(uid, str(arg))
        elif name == RESUME:
            log.warning("point %s: its module lost the release of the running transaction: releasing it", uid)
            try:
                await st.release(self.backend.ops, uid)
            except pointops.CommandError as e:
                log.warning("release to %s: %s", uid, e.reason)
                st.resuming.pop(uid, None)  # the next live sample tries again
        elif name == RESTORE:
            for command, value in st.forgotten(uid):
                log.warning(
                    "point %s: its module lost %s %s (it restarted): setting it again", uid, command, value
                )
                await self.command(uid, command, value)
        elif name == "session_start":
            if st.settings()["FreeMode"]:
                await self.plugged_in(uid, st.settings()["FreeModeUID"])
            if uid in st.pending and st.locks_remotely(uid):
                await self.command(uid, "lock", None)  # released before the plug was in (Station.release)
        self.backend.wake.set()

    async def stopped(self, uid: str, stop: list[int]) -> None:
        self.station.on_stop(uid, stop)
        if self.station.queue.running(uid) is None:
            await self.scheduled_availability(uid)

    async def vehicle_left(self, uid: str) -> None:
        """UnlockConnectorOnEVSideDisconnect: a remotely locked socket is unlocked once the vehicle left (the
        cable can be taken); without it the socket keeps the cable until UnlockConnector or another lock
        command. The module moves the lock only with its contactor confirmed open."""
        if self.station.settings()["UnlockConnectorOnEVSideDisconnect"] and self.station.locks_remotely(uid):
            await self.command(uid, "unlock", None)

    async def signed(self, uid: str, session: int, record: str) -> None:
        if self.station.signed(uid, session, record) and self.station.queue.running(uid) is None:
            await self.scheduled_availability(uid)

    def _later(self, delay_s: float, item: tuple[str, str, Any]) -> None:
        async def put() -> None:
            await asyncio.sleep(delay_s)
            self.events.put_nowait(item)

        task = asyncio.ensure_future(put())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def card(self, uid: str, tag: str) -> None:
        """A card at an OCPP point: the same card again ends its transaction (PresentingRFIDEndCharging);
        another one is authorized (`authorize`) and, unless the connector is reserved for someone else,
        releases the point."""
        st = self.station
        tx = st.queue.running(uid)
        if tx is not None:
            if tx.id_tag == tag and st.settings()["PresentingRFIDEndCharging"]:
                await self.command(uid, "release", False)
                st.end(tx, "Local")
            else:  # another card, or the same without PresentingRFIDEndCharging: it changes nothing
                await self.command(uid, "rfid_decided", "denied")  # ends Authorization Request ongoing
            return
        info = await self.authorize(tag)
        connector = st.connector_of(uid)
        reservation = st.reservations.at(connector) if connector is not None else None
        status = str(info.get("status"))
        if status == "Accepted" and reservation and not reservation.admits(tag, info.get("parentIdTag")):
            status = "Reserved"  # kept for another id
        if status != "Accepted":
            log.info("card %s at %s: %s", tag, uid, status)
            await self.command(uid, "rfid", [tag, False])  # the bus carries lists, not dicts
            return
        reservation_id = reservation.reservation_id if reservation else None
        st.pending[uid] = Pending(tag, st.clock(), reservation_id, "EVDiscardTimeOut")
        try:
            await st.release(self.backend.ops, uid)
        except pointops.CommandError as e:
            log.warning("release of %s for card %s: %s", uid, tag, e.reason)

    async def plugged_in(self, uid: str, tag: str) -> None:
        """FreeMode (at plug-in) and ServiceRestart (a vehicle found plugged in after a restart): the
        point's transaction is authorized at the backend under the mode's own id, as a card would be."""
        if self.station.queue.running(uid) is None and uid not in self.station.pending:
            log.info("point %s: authorizing %s", uid, tag)
            await self.card(uid, tag)

    async def authorize(self, tag: str) -> dict[str, Any]:
        """The tag's IdTagInfo: online from the backend (or, with LocalPreAuthorize, from the local list or
        cache at once when they accept it); offline from them with LocalAuthorizeOffline (the transaction
        is then queued)."""
        st = self.station
        s = st.settings()
        box = self.backend.box
        online = box is not None
        if box is not None and not (s["LocalPreAuthorize"] and st.locally_valid(tag)):
            try:
                info = await box.authorize(tag)
            except (TimeoutError, OCPPError, websockets.exceptions.WebSocketException) as e:
                log.warning("Authorize %s: %s", tag, e)
                online = False
            else:
                st.remember(tag, info)
                return info
        if not online and not s["LocalAuthorizeOffline"]:
            return {"status": "offline"}
        local = st.local_info(tag)
        return local if local is not None and st.locally_valid(tag) else {"status": "unknown locally"}

    async def after_restart(self, settle_s: float = 2.0) -> None:
        """ServiceRestart: once the backend first accepts the charge box after this service started (and
        the points' live samples are in), each point with a vehicle and no transaction is registered under
        ServiceUID."""
        await self.backend.accepted.wait()
        await asyncio.sleep(settle_s)
        s = self.station.settings()
        if not s["ServiceRestart"]:
            return
        for uid in list(self.station.connectors.values()):
            if self.station.vehicle_at(uid):
                await self.plugged_in(uid, s["ServiceUID"])

    async def scheduled_availability(self, uid: str) -> None:
        """A ChangeAvailability that was Scheduled takes effect once the transaction is over."""
        on = self.station.scheduled_availability.pop(uid, None)
        if on is not None:
            await self.command(uid, "available", on)

    async def command(self, uid: str, name: str, value: Any) -> None:
        await self.backend.command(uid, name, value)
