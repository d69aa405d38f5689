"""The charge box's state beside the protocol: which points are its connectors, their last live sample and
the status the backend last got, the transactions (over the durable queue), remote starts waiting for a
vehicle. It follows the one session authority: a transaction starts at the module's `session_release`
(meterStart = its meter reading) and stops at its `session_stop` (meterStop, reason mapped), or earlier
when the backend stops it remotely (then the module's session goes on until the vehicle leaves, without
a transaction)."""

from __future__ import annotations

import asyncio
import datetime
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import chargedefs

from chargepark import pointops
from chargepark.config.store import ConfigStore
from chargepark.ocpp import eichrecht, vocab
from chargepark.ocpp.authlist import LocalAuth, valid
from chargepark.ocpp.availability import Availability
from chargepark.ocpp.journal import Journal
from chargepark.ocpp.profiles import Profiles
from chargepark.ocpp.reservations import Reservations
from chargepark.ocpp.txqueue import Transaction, TxQueue

log = logging.getLogger("chargepark.ocpp")

NO_TAG = "chargepark"  # idTag of a transaction nobody authorized (a release by an Event Action)
MISSED_STOP_S = 5.0  # a vehicle gone this long with its transaction open: the session_stop was missed


def now_iso(t: float | None = None) -> str:
    at = datetime.datetime.fromtimestamp(time.time() if t is None else t, datetime.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (at.microsecond // 1000)


def connectors_of(points: dict[str, dict[str, Any]]) -> dict[int, str]:
    """connector id -> point uid: the points in release mode "ocpp" with a connector id (the park rules keep
    the ids unique)."""
    return {
        int(cfg["ocpp_connector_id"]): uid
        for uid, cfg in sorted(points.items())
        if cfg.get("release_mode") == "ocpp" and int(cfg.get("ocpp_connector_id", -1)) >= 1
    }


SIGNED_LATE = "(signed late)"  # Feed's work item: a stop's wait for its signed record is over


@dataclass
class Signing:
    """A stop waiting for the meter's signed record of `session`: the module's session_stop, or the head's
    own (stop None: the meter reading and the reason it had then)."""

    session: int
    stop: list[int] | None
    meter_wh: int = 0
    reason: str = ""


@dataclass(frozen=True)
class Status:
    """What a StatusNotification says about one connector."""

    status: str
    error_code: str
    info: str = ""
    vendor_error_code: str = ""

    def payload(self, connector: int, at: str) -> dict[str, Any]:
        p: dict[str, Any] = {"connectorId": connector, "status": self.status, "errorCode": self.error_code,
                             "timestamp": at}  # fmt: skip
        if self.info:
            p["info"] = self.info[:50]
        if self.vendor_error_code:
            p["vendorErrorCode"] = self.vendor_error_code
        return p


OFFLINE = Status("Unavailable", "InternalError", "module offline")


def status_of(live: dict[str, Any] | None, info: str = "") -> Status:
    if not live or not live.get("online", True):
        return OFFLINE
    code, names = vocab.error_code(int(live.get("error_bits", 0)))
    return Status(vocab.STATUS[chargedefs.STATUSES[int(live["status"])]].value, code.value, info, names)


@dataclass
class Pending:
    """A remote start (or an accepted card) waiting for the vehicle: released, not yet a transaction."""

    id_tag: str
    since: float
    reservation_id: int | None = None  # the reservation it uses (sent in StartTransaction, then gone)
    timeout_key: str = "ConnectionTimeOut"  # the setting it lapses after (a card's: EVDiscardTimeOut)


class Station:
    def __init__(
        self,
        store: ConfigStore,
        queue: TxQueue,
        state: sqlite3.Connection,
        journal: Journal,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.queue = queue
        self.journal = journal
        self.auth = LocalAuth(state)
        self.reservations = Reservations(state)
        self.availability = Availability(state)
        self.profiles = Profiles(state)
        self.changed = asyncio.Event()  # transactions or profiles changed: the limits are due again
        self.clock = clock
        self.connectors: dict[int, str] = {}
        self.live: dict[str, dict[str, Any]] = {}
        self.info: dict[str, str] = {}  # uid -> the last Event Action description (External Release)
        self.emergency: set[str] = set()  # uids whose next stop is an EmergencyStop
        self.pending: dict[str, Pending] = {}
        self.sent: dict[int, Status] = {}  # connector -> what the backend last got
        self.new_status: dict[int, tuple[Status, float]] = {}  # connector -> a status not sent yet, since
        self.scheduled_availability: dict[str, bool] = {}  # uid -> available once its transaction ends
        self.gone_since: dict[str, float] = {}  # uid -> when its live sample first showed no vehicle
        self.resuming: dict[str, int] = {}  # uid -> the transaction its point was released again for
        self.signing: dict[str, Signing] = {}  # uid -> its stop, waiting for the meter's signed record
        # Feed's timer: (delay, work item) into its queue; a stop that waits for a record expires by it
        self.later: Callable[[float, tuple[str, str, Any]], None] | None = None
        # Points not seen released with their transaction since this service started or since their module
        # was offline: only there a missing release means the module restarted (elsewhere it is our own
        # stop under way).
        self.unsure: set[str] = set()
        self.reload()
        self.apply_log_level()

    def reload(self) -> None:
        self.connectors = connectors_of(self.store.get("chargepoint"))
        self.journal.forget_connectors({0, *self.connectors})

    def apply_log_level(self) -> None:
        """LogLevel: DEBUG or INFO for this service's log and the protocol's (every message at INFO)."""
        level = logging.getLevelName(self.settings()["LogLevel"])
        for name in ("chargepark.ocpp", "ocpp"):
            logging.getLogger(name).setLevel(level)

    def vehicle_at(self, uid: str) -> bool:
        live = self.live.get(uid)
        return bool(live and live.get("online", True) and int(live.get("iec_state", 0)) > chargedefs.STATE_A2)

    def forgotten(self, uid: str) -> list[tuple[str, bool]]:
        """The commands that give the point's module back what this service keeps for it and the module's
        live sample no longer shows (the module restarted): an Inoperative connector's unavailability (once
        no transaction runs: a Scheduled change waits for its end) and a reservation's `reserved` flag."""
        live, connector = self.live.get(uid), self.connector_of(uid)
        if not live or not live.get("online", True) or connector is None:
            return []
        out = []
        if (
            self.availability.inoperative(connector)
            and live.get("available")
            and self.queue.running(uid) is None
        ):
            out.append(("available", False))
        status = chargedefs.STATUSES[int(live.get("status", 0))]
        if status == "Available" and self.reservations.at(connector) is not None:
            out.append(("reserved", True))
        return out

    def locks_remotely(self, uid: str) -> bool:
        """The point's socket locks only when told (locking mode remote): for an OCPP point, this service
        locks it with each release and unlocks it when its vehicle leaves (UnlockConnectorOnEVSideDisconnect).
        In connected mode the module locks at plug-in and unlocks at unplug by itself."""
        cfg = self.store.get("chargepoint", uid) or {}
        return cfg.get("connection_type") == "socket" and cfg.get("locking_mode") == "remote"

    async def release(self, ops: pointops.PointOps, uid: str) -> None:
        """Releases the point for its transaction, locking a remotely locked socket first when the vehicle
        is there (unlocked, it offers no PWM; before the plug is in, a locked socket would refuse it: then
        the lock follows at plug-in, `Feed`); pointops.CommandError when the module refuses."""
        if self.locks_remotely(uid) and self.vehicle_at(uid):
            await ops.command(uid, "lock")
        await ops.command(uid, "release", True)

    def connector_of(self, uid: str) -> int | None:
        return next((c for c, u in self.connectors.items() if u == uid), None)

    def settings(self) -> dict[str, Any]:
        return dict(self.store.get("ocpp"))

    def local_info(self, tag: str) -> dict[str, Any] | None:
        """The tag's IdTagInfo from the local list (LocalAuthListEnabled) or the authorization cache
        (AuthorizationCacheEnabled); None when neither knows it."""
        s = self.settings()
        return self.auth.info(tag, s["LocalAuthListEnabled"], s["AuthorizationCacheEnabled"])

    def locally_valid(self, tag: str) -> bool:
        return valid(self.local_info(tag), self.clock())

    def remember(self, tag: str, info: dict[str, Any]) -> None:
        """An IdTagInfo from the backend goes into the authorization cache (when it is enabled)."""
        if self.settings()["AuthorizationCacheEnabled"]:
            self.auth.remember(tag, info)

    # ---- statuses ---------------------------------------------------------------------------------

    def status(self, connector: int) -> Status:
        if connector == 0:
            return Status("Available", "NoError")
        uid = self.connectors[connector]
        s = status_of(self.live.get(uid), self.info.get(uid, ""))
        if s.status == "SuspendedEVSE" and self.queue.running(uid) is None:
            # the module suspends a vehicle that waits for its release; OCPP calls that Preparing (1.6 section
            # 4.9: SuspendedEVSE is a state of a transaction)
            s = Status("Preparing", s.error_code, s.info, s.vendor_error_code)
        return s

    def changed_statuses(self) -> list[tuple[int, Status]]:
        """Connectors whose status differs from what the backend last got (connector 0 first), once the new
        one has lasted MinimumStatusDuration (a status that came and went sooner is never sent)."""
        hold = self.settings()["MinimumStatusDuration"]
        out = []
        busy: set[str] | None = None  # points with transaction messages not delivered yet
        for c in [0, *self.connectors]:
            s = self.status(c)
            if s.status == "Available" and c:
                # never Available during a transaction: its StopTransaction reaches the backend first
                # (after a restart the vehicle may not be seen yet; `mend` stops it when it stays away)
                uid = self.connectors[c]
                busy = self.queue.uids_queued() if busy is None else busy
                if self.queue.running(uid) is not None or uid in busy:
                    continue
            if self.sent.get(c) == s:
                self.new_status.pop(c, None)
                continue
            seen, since = self.new_status.get(c, (None, 0.0))
            if seen != s:
                seen, since = s, self.clock()
                self.new_status[c] = (s, since)
            if c not in self.sent or self.clock() - since >= hold:  # the first of a connection at once
                out.append((c, s))
        return out

    # ---- transactions -----------------------------------------------------------------------------

    def on_release(self, uid: str, session: int, meter_wh: int) -> Transaction | None:
        """session_release: the transaction starts (once per session; a duplicate event changes nothing)."""
        connector = self.connector_of(uid)
        if connector is None:
            return None
        running = self.queue.running(uid)
        resumed = self.resuming.pop(uid, None)
        if running is not None and resumed == running.ref:
            if running.session != session:
                log.info("point %s: transaction %d resumes in session %d", uid, running.ref, session)
                self.queue.adopt(running.ref, session)
            return None
        if running is not None:
            if running.session == session:
                return None
            log.warning(
                "point %s: a new session %d while transaction %d runs; stopping it", uid, session, running.ref
            )
            self.queue.stop(running.ref, self._meter(uid, running), now_iso(), "Other")
        pending = self.pending.pop(uid, None)
        settings = self.settings()
        tag = pending.id_tag if pending else (settings["FreeModeUID"] if settings["FreeMode"] else NO_TAG)
        reservation = pending.reservation_id if pending else None
        self.queue.start(uid, session, connector, tag, max(meter_wh, 0), now_iso(), reservation, self.clock())
        self.changed.set()
        return self.queue.running(uid)

    def on_stop(self, uid: str, arg: list[int], signed: str = "") -> bool:
        """session_stop [id, meter_wh, energy_wh, connected_s, charging_s, reason]: the transaction ends
        (with a signing meter's record `signed` in its transactionData)."""
        session, meter_wh, energy_wh, _conn, _chg, code = arg[:6]
        tx = self.queue.running(uid)
        if tx is None or tx.session != session:
            return False
        meter = meter_wh if meter_wh >= 0 else tx.meter_start + max(energy_wh, 0)
        reason = vocab.STOP_REASON[chargedefs.STOP_REASONS[code]].value
        if uid in self.emergency:
            self.emergency.discard(uid)
            reason = vocab.EMERGENCY_STOP
        return self.stop(tx, meter, reason, signed)

    def end(self, tx: Transaction, reason: str) -> bool:
        """The head ends a transaction (a remote stop, the same card again, DeAuthorized) after it told the
        module `release false`: at a signing point, whose meter signs then, the StopTransaction waits for
        the record (at most eichrecht.SIGNED_WAIT_S)."""
        meter = self.meter_now(tx)
        if self.later is None or not eichrecht.signs(self.store, self.settings(), tx.uid):
            return self.stop(tx, meter, reason)
        self.await_signed(tx.uid, Signing(tx.session, None, meter, reason))
        return True

    def await_signed(self, uid: str, waiting: Signing) -> None:
        self.signing[uid] = waiting
        if self.later is not None:
            self.later(eichrecht.SIGNED_WAIT_S, (uid, SIGNED_LATE, waiting.session))

    def signed(self, uid: str, session: int, record: str) -> bool:
        """The meter's record of `session` ("" when it did not come): the stop that waited for it goes out."""
        waiting = self.signing.get(uid)
        if waiting is None or waiting.session != session:
            return False
        del self.signing[uid]
        if waiting.stop is not None:
            return self.on_stop(uid, waiting.stop, record)
        tx = self.queue.running(uid)
        return (
            tx is not None
            and tx.session == session
            and self.stop(tx, waiting.meter_wh, waiting.reason, record)
        )

    def lost_release(self, uid: str) -> Transaction | None:
        """The running transaction of a point whose module shows the vehicle but no release: the module
        restarted under it (with the head, or alone). The point is released again once and the module's new
        session carries the transaction on (`on_release`): no second StartTransaction."""
        live, tx = self.live.get(uid), self.queue.running(uid)
        if live is None or not live.get("online", True):
            self.unsure.add(uid)
            return None
        if tx is None or live.get("release"):
            self.unsure.discard(uid)
            return None
        if uid not in self.unsure or uid in self.resuming or not self.vehicle_at(uid):
            return None
        self.resuming[uid] = tx.ref
        return tx

    def mend(self, uid: str) -> bool:
        """A session_stop missed while this service was down (a restart, a kill): the live sample shows no
        vehicle and no session, yet the transaction is open. After MISSED_STOP_S (the event, when it comes,
        stops it first) it stops with the meter of the sample: no energy flows without a vehicle."""
        live = self.live.get(uid)
        tx = self.queue.running(uid)
        gone = bool(live and live.get("online", True) and int(live.get("iec_state", 0)) <= chargedefs.STATE_A2
                    and int(live.get("connected_s", 0)) == 0)  # fmt: skip
        if tx is None or not gone or live is None or uid in self.signing:  # signing: its stop is under way
            self.gone_since.pop(uid, None)
            return False
        first = self.gone_since.setdefault(uid, self.clock())
        if self.clock() - first < MISSED_STOP_S:
            return False
        del self.gone_since[uid]
        log.warning(
            "point %s: transaction %d had no session_stop; stopping it with the live meter", uid, tx.ref
        )
        return self.stop(tx, int(live["energy_wh"]), vocab.STOP_REASON["ev_disconnected"].value)

    def stop(self, tx: Transaction, meter_wh: int, reason: str, signed: str = "") -> bool:
        extra: dict[str, Any] = {}
        s = self.settings()
        live = self.live.get(tx.uid)
        sampled = vocab.measurands(s["StopTxnSampledData"])
        aligned = [m for m in vocab.measurands(s["StopTxnAlignedData"]) if m not in sampled]
        if (sampled or aligned) and live:
            sv = vocab.sampled_values(live, sampled, "Transaction.End") + vocab.sampled_values(
                live, aligned, "Sample.Clock"
            )
            extra["transactionData"] = [{"timestamp": now_iso(), "sampledValue": sv}]
        if signed:
            data = extra.setdefault("transactionData", [{"timestamp": now_iso(), "sampledValue": []}])
            fmt, key = int(s["SignedDataFormat"]), eichrecht.public_key(self.store, tx.uid)
            data[0]["sampledValue"].append(eichrecht.signed_value(signed, fmt, key))
        self.profiles.end_transaction(tx.connector)
        self.changed.set()
        return self.queue.stop(tx.ref, meter_wh, now_iso(), reason, extra)

    def meter_now(self, tx: Transaction) -> int:
        return self._meter(tx.uid, tx)

    def _meter(self, uid: str, tx: Transaction) -> int:
        live = self.live.get(uid)
        return int(live["energy_wh"]) if live and "energy_wh" in live else tx.meter_start

    def sample(
        self, context: str = "Sample.Periodic", measurands: str = "MeterValuesSampledData"
    ) -> list[tuple[Transaction | None, int, list[dict[str, Any]]]]:
        """One meterValue per connector with a live sample: (its running transaction, connector, meterValue);
        the measurands of the setting named (MeterValuesAlignedData for clock-aligned values)."""
        wanted = vocab.measurands(self.settings()[measurands])
        out = []
        for c, uid in self.connectors.items():
            live = self.live.get(uid)
            if live and live.get("online", True) and wanted:
                mv = [{"timestamp": now_iso(), "sampledValue": vocab.sampled_values(live, wanted, context)}]
                out.append((self.queue.running(uid), c, mv))
        return out

    def lapsed(self) -> list[str]:
        """Remote starts whose vehicle did not come within ConnectionTimeOut, cards whose vehicle did not
        come within EVDiscardTimeOut (their release is withdrawn)."""
        s = self.settings()
        gone = [uid for uid, p in self.pending.items() if self.clock() - p.since > s[p.timeout_key]]
        for uid in gone:
            del self.pending[uid]
            connector = self.connector_of(uid)
            if connector is not None:
                self.profiles.end_transaction(connector)  # a RemoteStartTransaction's TxProfile
        return gone
