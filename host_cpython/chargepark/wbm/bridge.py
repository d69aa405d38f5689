"""MQTT Bridge (manual "MQTT Bridge"): the bridge's connection to the remote broker as the bridge service
reports it (`topics.BRIDGE_STATE`: connected, refused, tls_error, unreachable, with the last error text and
the QoS 1 messages dropped), the station as the remote broker sees it (`topics.BRIDGE_CONFIG`) and each
forwarding row's full remote topic (the info pop-up, `bridge.rules.info_topic`) or why the bridge cannot
carry it (`rules.problem`). The settings themselves
are the `mqtt_bridge` configuration area (`/api/wbm/config/mqtt_bridge`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from chargepark import topics
from chargepark.bridge import rules
from chargepark.bridge.status import BridgeState
from chargepark.ocpp import cacert
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/bridge", tags=["mqtt bridge"])
Ctx = Annotated[WbmContext, Depends(of)]
Record = dict[str, Any]
# which of the bridge's retained topics lands where in `WbmContext.bridge`
KEYS = {topics.BRIDGE_STATE: "state", topics.BRIDGE_CONFIG: "station"}


def take(ctx: WbmContext, topic: str, raw: bytes) -> None:
    """The web server's handler of the bridge's topics: the last message of each (not JSON: ignored)."""
    try:
        msg = json.loads(raw)
    except ValueError:
        return
    if isinstance(msg, dict) and topic in KEYS:
        ctx.bridge[KEYS[topic]] = msg


def _certificate(pem: str) -> Record | None:
    """What the page shows of the stored CA (the area's checks let only a usable one in)."""
    if not pem:
        return None
    try:
        return cacert.describe(cacert.check(pem.encode("utf-8", "replace")))
    except cacert.Refused as e:  # expired since it was stored
        return {"problem": str(e)}


@router.get("/status", operation_id="bridge_status",
            summary="The MQTT bridge as it acts now: connection, station id, each row's full remote topic")  # fmt: skip
async def bridge_status(ctx: Ctx) -> Record:
    cfg: Record = ctx.store.get("mqtt_bridge")
    station = ctx.bridge.get("station", {})
    station_id = str(station.get("id") or "<device id>")  # until the bridge knows the station
    state = ctx.bridge.get("state") or BridgeState().report()  # no word from the bridge yet: off
    rows = [
        dict(row, topic=rules.info_topic(cfg, row, station_id), problem=rules.problem(row))
        for row in cfg["topics"]
    ]
    return {"connection": state, "station_id": station_id, "device_type": rules.DEVICE_TYPE, "rows": rows,
            "certificate": _certificate(cfg["certificate"])}  # fmt: skip
