"""The park as the data hub's `charging_controllers/<uid>/data/live` messages show it (WBM, live table)."""

from __future__ import annotations

import json
import logging
from typing import Any

from chargepark import topics

log = logging.getLogger("chargepark.livepoints")


class LivePoints:
    def __init__(self) -> None:
        self.points: dict[str, dict[str, Any]] = {}

    def on_live(self, topic: str, raw: bytes) -> None:
        uid = topics.uid_of(topic, topics.CHARX_DATA)
        try:
            if uid is not None:
                self.points[uid] = json.loads(raw)
        except ValueError:
            log.warning("bad live message on %s", topic)

    def by_position(self) -> list[dict[str, Any]]:
        return sorted(self.points.values(), key=lambda p: p.get("position", 0))
