"""The system time follows the backend (the currentTime of its BootNotification and Heartbeat answers):
set when it is off by more than TOLERANCE_S, but during a transaction only with AllowTimeSyncDuringSession
(a jump would distort the session's times). AvailabilityOnlyWhenTimeSynchronized holds the OCPP points
unavailable until the first synchronization since the service started."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chargepark.ocpp.smartcharging import epoch
from chargepark.ocpp.station import Station

log = logging.getLogger("chargepark.ocpp")
TOLERANCE_S = 2.0


class TimeSync:
    def __init__(
        self, station: Station, set_clock: Callable[[float], None], clock: Callable[[], float] = time.time
    ) -> None:
        self.station = station
        self.set_clock = set_clock  # the system clock (wbm.systemhost: date -u --set, hwclock)
        self.clock = clock
        self.synchronized = False
        self.held: set[str] = set()  # points this holds unavailable until the first synchronization
        self.command: Callable[[str, str, Any], Awaitable[None]] | None = None  # set by the backend

    async def hold(self) -> None:
        """At the start: AvailabilityOnlyWhenTimeSynchronized makes the OCPP points unavailable."""
        if self.station.settings()["AvailabilityOnlyWhenTimeSynchronized"] and self.command is not None:
            for uid in self.station.connectors.values():
                await self.command(uid, "available", False)
                self.held.add(uid)

    async def backend_time(self, current_time: str) -> None:
        try:
            backend = epoch(current_time)
        except ValueError:
            log.warning("backend time %r is no time", current_time)
            return
        assert backend is not None
        running = any(self.station.queue.running(uid) for uid in self.station.connectors.values())
        if running and not self.station.settings()["AllowTimeSyncDuringSession"]:
            return
        off = backend - self.clock()
        if abs(off) > TOLERANCE_S:
            log.warning("system time off by %.1f s from the backend's: set to %s", off, current_time)
            await asyncio.to_thread(self.set_clock, backend)
        self.synchronized = True
        while self.held and self.command is not None:
            uid = self.held.pop()
            connector = self.station.connector_of(uid)
            if connector is not None and not self.station.availability.inoperative(connector):
                await self.command(uid, "available", True)  # an Inoperative connector stays unavailable
