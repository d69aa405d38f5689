"""The backend's limit on each OCPP point, published on `topics.OCPP_LIMIT` ({ma, reason}, retained, per
point) whenever it changes and at every edge of a charging schedule; load management, the one set-point
path, applies it (this service never sends a current to a point).

The limit is the lowest of: the TxProfile or TxDefaultProfile (smartcharging.limit), MaxCurrent, and a
share of the charge box's totals, ChargePointMaxProfile and GlobalMaxCurrent. A total is shared equally
among the connectors with a transaction; a connector without one gets the share it would have if it
started one (so a start never needs more than the total)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chargepark.ocpp import smartcharging as sc
from chargepark.ocpp.station import Station

log = logging.getLogger("chargepark.ocpp")
A = 1000
IDLE_S = 5.0  # the longest wait between two looks (configuration changes arrive without a wake)


def point_limits(station: Station, t: float) -> dict[str, dict[str, Any]]:
    """uid -> {ma, reason} of every connector at `t`."""
    s = station.settings()
    profiles = station.profiles.installed
    own = [p for p in profiles if p.purpose != sc.CP_MAX]
    box_cap, _ = sc.limit(profiles, 0, t, None, None)
    running = {c: station.queue.running(uid) for c, uid in station.connectors.items()}
    active = sum(1 for tx in running.values() if tx is not None)
    out = {}
    for c, uid in station.connectors.items():
        tx = running[c]
        share = max(1, active if tx is not None else active + 1)
        value, purpose = sc.limit(own, c, t, tx.tx_id if tx else None, tx.started if tx else None)
        candidates = [(float(s["MaxCurrent"]), "max_current")]
        if value is not None:
            candidates.append((value, sc.REASON[purpose or sc.TX_DEFAULT]))
        if box_cap is not None:
            candidates.append((box_cap / share, sc.REASON[sc.CP_MAX]))
        if s["GlobalMaxCurrent"]:
            candidates.append((float(s["GlobalMaxCurrent"]) / share, "global_max_current"))
        amps, reason = min(candidates, key=lambda x: x[0])
        out[uid] = {"ma": int(amps * A), "reason": reason}
    return out


def next_edge(station: Station, t: float) -> float | None:
    starts = [tx.started for uid in station.connectors.values() if (tx := station.queue.running(uid))]
    found = [e for s in [None, *starts] for e in sc.edges(station.profiles.installed, t, t + sc.DAY * 8, s)]
    return min(found) if found else None


class Limits:
    def __init__(
        self,
        station: Station,
        publish: Callable[[str, dict[str, Any]], Awaitable[None]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.station = station
        self.publish = publish
        self.clock = clock
        self.sent: dict[str, dict[str, Any]] = {}

    async def once(self) -> None:
        now = point_limits(self.station, self.clock())
        for uid in set(self.sent) - set(now):  # no longer an OCPP point: its retained limit goes
            await self.publish(uid, {"ma": None, "reason": None})
            del self.sent[uid]
        for uid, limit in now.items():
            if self.sent.get(uid) != limit:
                await self.publish(uid, limit)
                self.sent[uid] = limit

    async def run(self) -> None:
        while True:
            self.station.changed.clear()
            await self.once()
            now = self.clock()
            edge = next_edge(self.station, now)
            wait = IDLE_S if edge is None else min(IDLE_S, max(0.0, edge - now) + 0.001)
            try:
                async with asyncio.timeout(wait):  # (wait_for in 3.11 may turn a cancel into a timeout)
                    await self.station.changed.wait()
            except TimeoutError:
                pass
