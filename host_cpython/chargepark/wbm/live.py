"""The park's live state as the web server keeps it from retained topics (the data hub's live message per
point, the supervisor's service table, the system monitor), and its fan-out to server-sent-event clients."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import chargedefs as cd

from chargepark import topics
from chargepark.livepoints import LivePoints

log = logging.getLogger("chargepark.wbm.live")
OCCUPIED = frozenset({cd.ST_PREPARING, cd.ST_SUSPENDED_EV, cd.ST_SUSPENDED_EVSE, cd.ST_FINISHING})


class Listener:
    """One event-stream client: the latest message per point not yet sent (a slow client skips
    intermediate states instead of queueing them without bound); `only` one point's (a status page)."""

    def __init__(self, only: str | None = None) -> None:
        self.only = only
        self.pending: dict[str, dict[str, Any]] = {}
        self.wake = asyncio.Event()

    def push(self, uid: str, point: dict[str, Any]) -> None:
        if self.only is None or uid == self.only:
            self.pending[uid] = point
            self.wake.set()

    def take(self) -> dict[str, dict[str, Any]]:
        out, self.pending = self.pending, {}
        self.wake.clear()
        return out


class ParkView(LivePoints):
    def __init__(self) -> None:
        super().__init__()
        self.services: list[Any] = []
        self.system: dict[str, Any] = {}
        self.listeners: set[Listener] = set()

    def on_live(self, topic: str, raw: bytes) -> None:
        super().on_live(topic, raw)
        uid = topics.uid_of(topic, topics.CHARX_DATA)
        point = self.points.get(uid or "")
        if uid is not None and point is not None:
            for listener in self.listeners:
                listener.push(uid, point)

    def on_services(self, topic: str, raw: bytes) -> None:
        try:
            self.services = list(json.loads(raw))
        except (ValueError, TypeError):
            log.warning("bad services message")

    def on_system(self, topic: str, raw: bytes) -> None:
        try:
            self.system = dict(json.loads(raw))
        except (ValueError, TypeError):
            log.warning("bad system message")

    def online(self) -> set[str]:
        return {uid for uid, p in self.points.items() if p.get("bus_state") == "online"}

    def summary(self, configured_only: bool = True) -> dict[str, Any]:
        """Counts and points; the dashboard shows configured points only (manual, Dashboard)."""
        pts = [p for p in self.by_position() if p.get("configured", True) or not configured_only]
        # The live messages name the status; the summary counts chargedefs codes.
        codes = [cd.STATUSES.index(p["status"]) for p in pts if p.get("status") in cd.STATUSES]
        power = sum(float(p.get("energy", {}).get("real_power", {}).get("value", 0)) for p in pts)
        return {
            "available": codes.count(cd.ST_AVAILABLE),
            "occupied": sum(1 for c in codes if c in OCCUPIED),
            "charging": codes.count(cd.ST_CHARGING),
            "power_w": round(power, 1),
            "points": pts,
            "services": self.services,
            "system": self.system,
        }
