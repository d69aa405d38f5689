"""ModemRestartTimeout (a CHARX server variable): while the modem is in use (the network area's
modem_enabled), a backend out of reach for that long gets the modem restarted, and again after each further
such period; 0 never restarts it. "Out of reach" counts from the service's start until the first
connection, and from each lost connection until the next."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("chargepark.ocpp")


class ModemWatch:
    def __init__(
        self,
        timeout_s: Callable[[], int],
        modem_in_use: Callable[[], bool],
        restart: Callable[[], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout_s = timeout_s
        self.modem_in_use = modem_in_use
        self.restart = restart
        self.clock = clock
        self.since: float | None = clock()  # not connected yet
        self.restarts = 0

    def connected(self) -> None:
        self.since = None

    def lost(self) -> None:
        if self.since is None:
            self.since = self.clock()

    async def check(self) -> bool:
        """Restarts the modem when the backend has been out of reach for the timeout; True if it did."""
        timeout = self.timeout_s()
        if self.since is None or timeout <= 0 or not self.modem_in_use():
            return False
        now = self.clock()
        if now - self.since < timeout:
            return False
        self.since = now  # the next restart one more period later
        self.restarts += 1
        log.warning("backend out of reach for %d s: restarting the modem (ModemRestartTimeout)", timeout)
        try:
            await self.restart()
        except Exception as e:  # a failed restart is retried a period later; it never ends the service
            log.warning("modem restart: %s", e)
        return True
