"""Each load circuit's latest status as the load management service publishes it (retained on
`topics.LM_CIRCUIT`), held by a subscriber (the web server, for the WBM's Load Management page)."""

from __future__ import annotations

import json
import logging
from typing import Any

from chargepark import topics

log = logging.getLogger("chargepark.loadmgmt.watch")


class Circuits:
    """The latest status per load circuit (retained on `topics.LM_CIRCUIT`)."""

    def __init__(self) -> None:
        self.status: dict[str, dict[str, Any]] = {}

    def on_status(self, topic: str, raw: bytes) -> None:
        cid = (topics.parts_of(topic, topics.LM_CIRCUIT) or {}).get("circuit")
        try:
            status = json.loads(raw) if raw else None
        except ValueError:
            log.warning("bad load circuit status on %s", topic)
            return
        if cid is not None and isinstance(status, dict):
            self.status[cid] = status
        elif cid is not None:
            self.status.pop(cid, None)
