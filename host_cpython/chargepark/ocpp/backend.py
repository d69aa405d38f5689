"""The link to the backend: one WebSocket (`ocpp1.6`, Basic authentication with AuthorizationUser /
AuthorizationKey, WebSocket ping every WebSocketPingTimeout), reconnected with backoff; on each connection
BootNotification until Accepted (Pending/Rejected wait the interval the backend gives), the statuses, then
one sender: the transaction queue in order, status changes, meter values, heartbeats."""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import ocpp.messages
import websockets
from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.exceptions import OCPPError
from ocpp.v16 import call

from chargepark import eventwait, pointops
from chargepark.ocpp import cacert, eichrecht
from chargepark.ocpp.chargebox import ChargeBox
from chargepark.ocpp.firmware import FirmwareManagement
from chargepark.ocpp.modemwatch import ModemWatch
from chargepark.ocpp.newurl import BackendSwitch
from chargepark.ocpp.station import Station, now_iso
from chargepark.ocpp.timesync import TimeSync

log = logging.getLogger("chargepark.ocpp")

BACKOFF_S = (1.0, 30.0)  # first wait after a lost connection, the longest
DEFAULT_BOOT_RETRY_S = 30.0  # Pending/Rejected with interval 0
TICK_S = 1.0  # the sender looks at statuses and timers at least this often


class Moving(Exception):
    """NewBackendURL was set: this connection ends, the next one goes there."""


def box_id(url: str) -> str:
    """The charge box id: the URL's last path element."""
    path = urllib.parse.urlsplit(url).path.rstrip("/")
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])


def auth_headers(user: str, key: str) -> dict[str, str]:
    if not user and not key:
        return {}
    token = base64.b64encode(("%s:%s" % (user, key)).encode()).decode()
    return {"Authorization": "Basic " + token}


class Backend:
    def __init__(
        self,
        station: Station,
        ops: pointops.PointOps,
        restart: Callable[[str], Awaitable[None]],
        firmware: FirmwareManagement,
        timesync: TimeSync,
        ca_dir: Path | None = None,
        modem: ModemWatch | None = None,
    ) -> None:
        self.modem = modem  # ModemRestartTimeout
        self.ca_dir = ca_dir  # where the uploaded CA certificate of a wss:// backend is kept (cacert)
        self.firmware = firmware
        self.timesync = timesync
        timesync.command = self.command
        firmware.notify = self.notify
        firmware.command = self.command
        self.station = station
        self.ops = ops
        self.restart = restart
        self.wake = asyncio.Event()
        self.status_due = asyncio.Event()  # a connector's live status changed (set with wake)
        self.box: ChargeBox | None = None
        self.online = False
        self.retry_at = 0.0  # a queued message that got a CALLERROR waits until then
        self.accepted = asyncio.Event()  # set once the backend first accepted the charge box
        self.keys = eichrecht.KeyTransfers()  # the signing meters' keys sent on this connection
        self.error = ""  # why the last connection ended (the WBM page shows it)
        self.switch = BackendSwitch(station.store)  # NewBackendURL
        self.url = ""  # the URL of the connection (being) made
        self.trial = False  # it is a NewBackendURL on trial

    async def run(self) -> None:
        # The package validates every payload in a worker thread by default (ocpp >= 2.0): two thread
        # hops a message, under one GIL, cost more than the validation itself; this process validates on
        # its loop.
        ocpp.messages.ASYNC_VALIDATION = False
        await self.timesync.hold()
        samplers = [asyncio.ensure_future(self.sample_meters()), asyncio.ensure_future(self.aligned_meters())]
        try:
            await self.connect_loop()
        finally:
            for task in samplers:
                task.cancel()

    async def connect_loop(self) -> None:
        wait = BACKOFF_S[0]
        while True:
            s = self.station.settings()
            url, self.trial = self.switch.target(s)
            self.url = url
            if not url:
                self.wake.clear()
                await self.wake.wait()  # the configuration changed
                continue
            try:
                async with websockets.connect(
                    url,
                    subprotocols=[websockets.Subprotocol("ocpp1.6")],
                    additional_headers=auth_headers(s["AuthorizationUser"], s["AuthorizationKey"]),
                    ping_interval=s["WebSocketPingTimeout"],
                    ping_timeout=s["WebSocketPingTimeout"],
                    open_timeout=min(10, self.switch.remaining()) if self.trial else 10,
                    ssl=cacert.context(self.ca_dir, url),
                ) as ws:
                    wait = BACKOFF_S[0]
                    await self.serve(
                        ChargeBox(
                            box_id(url),
                            ws,
                            self.station,
                            self.ops,
                            self.restart,
                            self.wake,
                            self.firmware,
                            self.timesync,
                        )
                    )
            except Moving as e:
                log.warning("backend %s: %s", url, e)
                self.error = str(e)
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as e:
                log.warning("backend %s: %s", url, e)
                self.error = str(e) or type(e).__name__
            except OCPPError as e:  # a CALLERROR where the session cannot go on (BootNotification, Heartbeat)
                log.warning("backend %s answered %s: %s", url, e.code, e.description)
                self.error = "%s: %s" % (e.code, e.description)
            except Exception as e:  # a backend must never end the service: log it whole and reconnect
                log.exception("backend %s", url)
                self.error = repr(e)
            finally:
                await self.set_online(False)
                self.station.journal.link(False, url, self.error)
            if self.modem is not None:
                await self.modem.check()
            await asyncio.sleep(wait * random.uniform(0.8, 1.2))
            wait = min(wait * 2, BACKOFF_S[1])

    async def serve(self, box: ChargeBox) -> None:
        """One connection, until it ends."""
        receiver = asyncio.ensure_future(box.start())
        sender = asyncio.ensure_future(self.send(box))
        try:
            done, _ = await asyncio.wait((receiver, sender), return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # raises what ended it
        finally:
            self.box = None
            for task in (receiver, sender):
                task.cancel()
            await asyncio.gather(receiver, sender, return_exceptions=True)

    async def set_online(self, on: bool) -> None:
        if on == self.online:
            return
        self.online = on
        if self.modem is not None and on:
            self.modem.connected()
        elif self.modem is not None:
            self.modem.lost()

        async def tell(uid: str) -> None:  # the Backend online/offline Event Action conditions
            try:
                await self.ops.command(uid, "backend", on)
            except pointops.CommandError as e:
                log.info("backend state to %s: %s", uid, e.reason)

        # all points at once: one after another, 250 points at ~100 ms each held the statuses back 25 s
        await asyncio.gather(*(tell(uid) for uid in list(self.station.connectors.values())))

    async def boot(self, box: ChargeBox) -> None:
        while True:
            answer = await box.boot_once()
            if answer.status == "Accepted":
                return
            wait = float(answer.interval) or DEFAULT_BOOT_RETRY_S
            log.info("BootNotification %s: again in %.0f s", answer.status, wait)
            await asyncio.sleep(wait)

    async def send(self, box: ChargeBox) -> None:
        if self.trial:  # a NewBackendURL: accepted in the time left, or the old URL again
            async with asyncio.timeout(self.switch.remaining()):
                await self.boot(box)
            self.switch.accepted(self.url)
        else:
            await self.boot(box)
        log.info("backend accepted charge box %s", box.id)
        self.box = box  # from now on others may call (Authorize, meter values)
        self.accepted.set()
        self.error = ""
        self.station.journal.link(True, self.url, self.switch.failed)  # a failed move stays visible
        await self.set_online(True)
        self.station.sent.clear()  # a new connection gets every status again
        self.keys.sent.clear()  # and every signing meter's public key
        for r in self.station.reservations.all():  # the modules show what survived a restart of ours
            await self.command(self.station.connectors.get(r.connector), "reserved", True)
        loop = asyncio.get_running_loop()
        last_beat = loop.time()
        while True:
            self.wake.clear()  # before the work: a wake during it is not lost
            if not box.answering and self.switch.wanted(self.station.settings(), self.url):
                raise Moving("NewBackendURL set: moving to %s" % self.station.settings()["NewBackendURL"])
            await box.send_triggered()
            await self.send_statuses(box)
            await self.send_keys(box)
            for uid in self.station.lapsed():
                await self._withdraw(uid)
            for r in self.station.reservations.expired(now_iso()):
                log.info("reservation %d at connector %d expired", r.reservation_id, r.connector)
                await box.unreserve(r.connector)
            while loop.time() >= self.retry_at and await self.deliver_one(box):
                if self.status_due.is_set():  # a status change does not wait for a long queue
                    await self.send_statuses(box)
            now = loop.time()
            if now - last_beat >= box.heartbeat_s:
                last_beat = now
                await box.heartbeat()
            try:
                await eventwait.within(self.wake, TICK_S)
            except TimeoutError:
                pass

    async def send_statuses(self, box: ChargeBox) -> None:
        self.status_due.clear()
        for connector, _status in self.station.changed_statuses():
            await box.status_notification(connector)

    async def send_keys(self, box: ChargeBox) -> None:
        """Each signing meter's public key not sent on this connection yet (docs/ocpp.md, calibration law):
        one DataTransfer per connector; sent once whatever the backend answers (a refusal is logged)."""
        settings = self.station.settings()
        if not settings["VendorAtKeyTransfer"]:
            return  # no vendorId configured: no key transfer
        for connector, key, serial in self.keys.due(self.station.store, self.station.connectors):
            try:
                answer = await box.call(
                    eichrecht.key_transfer(settings, connector, key, serial), suppress=False
                )
            except (TimeoutError, OCPPError) as e:
                log.info("public key of connector %d not sent: %s", connector, e)
                return  # again at the next round
            self.keys.sent[connector] = (key, serial)
            if answer.status != "Accepted":
                log.warning("public key of connector %d: the backend answered %s", connector, answer.status)

    async def sample_meters(self) -> None:
        """Sampled meter values every MeterValueSampleInterval, online or not: a running transaction's are
        queued, the others sent while the backend is there."""
        while True:
            interval = self.station.settings()["MeterValueSampleInterval"]
            await asyncio.sleep(interval or TICK_S)
            if interval:
                await self._meter_values(self.station.sample())

    async def aligned_meters(self) -> None:
        """Clock-aligned meter values (Sample.Clock, MeterValuesAlignedData) at every multiple of
        ClockAlignedDataInterval since midnight UTC."""
        while True:
            interval = self.station.settings()["ClockAlignedDataInterval"]
            if not interval:
                await asyncio.sleep(TICK_S)
                continue
            now = time.time()
            await asyncio.sleep(interval - (now % 86400) % interval)
            await self._meter_values(self.station.sample("Sample.Clock", "MeterValuesAlignedData"))

    async def _meter_values(self, samples: list[tuple[Any, int, list[dict[str, Any]]]]) -> None:
        queued = [(tx.ref, connector, mv) for tx, connector, mv in samples if tx is not None]
        if queued:  # one commit for the round (one fsync, not one per connector)
            self.station.queue.meter_values_of(queued)
            self.wake.set()
        for tx, connector, mv in samples:
            if tx is None and self.box is not None and self.online:
                await self._send_quietly(self.box, call.MeterValues(
                        connector_id=connector, meter_value=camel_to_snake_case(mv)))  # fmt: skip

    async def notify(self, payload: Any) -> None:
        """A status message (firmware, diagnostics): sent when connected, else only logged."""
        if self.box is not None and self.online:
            await self._send_quietly(self.box, payload)

    async def _send_quietly(self, box: ChargeBox, payload: Any) -> None:
        try:
            await box.call(payload)
        except (TimeoutError, OCPPError, websockets.exceptions.WebSocketException) as e:
            log.info("%s not sent: %s", type(payload).__name__, e)

    async def _withdraw(self, uid: str) -> None:
        await self.command(uid, "release", False)

    async def command(self, uid: str | None, name: str, value: Any) -> None:
        if uid is None:
            return
        try:
            await self.ops.command(uid, name, value)
        except pointops.CommandError as e:
            log.warning("%s to %s: %s", name, uid, e.reason)

    async def deliver_one(self, box: ChargeBox) -> bool:
        """The queue's first message; False when there is none (or it has to wait)."""
        q = self.station.queue
        msg = q.head()
        if msg is None:
            return False
        if msg.orphan:
            log.warning("dropping %s %d: its StartTransaction was refused", msg.action, msg.seq)
            q.drop(msg)
            return True
        payload = getattr(call, msg.action)(**camel_to_snake_case(msg.payload))
        try:
            answer = await box.call(payload, suppress=False, unique_id=msg.unique_id)
        except OCPPError as e:
            attempts = self.station.settings()["TransactionMessageAttempts"]
            dropped = q.failed(msg, attempts)
            log.warning("%s %d refused (%s)%s", msg.action, msg.seq, e.code, ", dropped" if dropped else "")
            if not dropped:
                self.retry_at = (
                    asyncio.get_running_loop().time()
                    + self.station.settings()["TransactionMessageRetryInterval"]
                )
                return False
            return True
        result = {"transactionId": answer.transaction_id} if msg.action == "StartTransaction" else {}
        q.delivered(msg, result)
        if msg.action == "StartTransaction":
            self.station.remember(msg.payload["idTag"], snake_to_camel_case(answer.id_tag_info))
            await self._started(msg.ref, str(answer.id_tag_info.get("status", "Accepted")))
        return True

    async def _started(self, ref: int | None, tag_status: str) -> None:
        """StopTransactionOnInvalidId: a transaction the backend did not accept the id of ends."""
        if tag_status == "Accepted" or not self.station.settings()["StopTransactionOnInvalidId"]:
            return
        for uid in list(self.station.connectors.values()):
            tx = self.station.queue.running(uid)
            if tx is not None and tx.ref == ref:
                await self._withdraw(uid)
                self.station.end(tx, "DeAuthorized")
