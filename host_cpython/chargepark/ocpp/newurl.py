"""NewBackendURL (CHARX server variable: "transferring the backend connection to a new URL"): once it is set
to a URL other than BackendURL, the connection moves there; the new backend has ACCEPT_WITHIN_S to accept
the charge box (connection open and BootNotification Accepted; failed attempts are retried with the usual
backoff meanwhile). Accepted: it becomes BackendURL. Not within the time: the old BackendURL is used again.
Either way NewBackendURL is emptied, so a failed move is not tried again by itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from chargepark.config.store import ConfigStore

log = logging.getLogger("chargepark.ocpp")

ACCEPT_WITHIN_S = 60.0  # the manual names no time; a backend that has not accepted in a minute is not there


class BackendSwitch:
    def __init__(
        self,
        store: ConfigStore,
        within_s: float = ACCEPT_WITHIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.within_s = within_s
        self.clock = clock
        self.deadline: float | None = None  # of the move under way
        self.failed = ""  # why the last move went back to the old URL

    def target(self, s: dict[str, Any]) -> tuple[str, bool]:
        """The URL to connect to next, and whether it is a move on trial."""
        old, new = s["BackendURL"], s["NewBackendURL"]
        if not new or new == old:
            self.deadline = None
            return old, False
        if self.deadline is None:
            self.deadline = self.clock() + self.within_s
            log.warning("NewBackendURL: moving from %s to %s", old, new)
        if self.clock() < self.deadline:
            return new, True
        self.failed = "NewBackendURL %s did not accept within %.0f s; back to %s" % (new, self.within_s, old)
        log.warning("%s", self.failed)
        self.deadline = None
        self.store.put("ocpp", {"NewBackendURL": ""})
        return old, False

    def remaining(self) -> float:
        return max(0.0, (self.deadline or self.clock()) - self.clock())

    def wanted(self, s: dict[str, Any], url: str) -> bool:
        """While connected to `url`: a move is asked for."""
        new = s["NewBackendURL"]
        return bool(new) and new != url

    def accepted(self, url: str) -> None:
        """The new backend accepted the charge box: it is the backend from now on."""
        log.warning("NewBackendURL %s accepted: it is the BackendURL now", url)
        self.deadline = None
        self.failed = ""
        self.store.put("ocpp", {"BackendURL": url, "NewBackendURL": ""})
