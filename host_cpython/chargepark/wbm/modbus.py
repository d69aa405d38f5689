"""Modbus (manual "Modbus" and "Modbus Client"): the Modbus/TCP server's settings as they act now (the
services' state, each point's start address as the server lays them out, reachable or not), each load
circuit's higher-level meter with its last reading from the Modbus Client service, and the register map
(the one table of `modbus.registers`, as docs/modbus-registers.md shows it). The settings themselves are
the `modbus` configuration area (`/api/wbm/config/modbus`)."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from chargepark import topics
from chargepark.modbus import docs, registers
from chargepark.modbus.view import layout, park_ranks
from chargepark.park.model import park_view
from chargepark.services.modbus_client.spec import SPEC as CLIENT
from chargepark.services.modbus_server.spec import SPEC as SERVER
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/modbus", tags=["modbus"])
Ctx = Annotated[WbmContext, Depends(of)]
Record = dict[str, Any]
STALE_S = 5.0  # a reading older than this is shown as not current (the client reads every second)


def take_meter(ctx: WbmContext, topic: str, raw: bytes) -> None:
    """The web server's handler of topics.MODBUS_CLIENT_METER: the last reading per load circuit."""
    circuit = (topics.parts_of(topic, topics.MODBUS_CLIENT_METER) or {}).get("circuit")
    try:
        msg = json.loads(raw)
    except ValueError:
        return
    if circuit and isinstance(msg, dict):
        ctx.client_meters[circuit] = msg


def _service(ctx: WbmContext, name: str) -> Record:
    row: Record = next((s for s in ctx.view.services if s.get("name") == name), {"name": name, "state": ""})
    return row


def _points(ctx: WbmContext, settings: Record) -> list[Record]:
    stations = park_view(ctx.store, ctx.view.online()).stations
    points = [pt for st in stations for pt in st.points]
    ranks = park_ranks([[pt.uid for pt in st.points] for st in stations])
    starts = layout(settings["start_addresses"], {pt.uid: (ranks[pt.uid], pt.position) for pt in points})
    configured = {e["uid"]: e["start"] for e in settings["start_addresses"]}
    return [
        {"uid": pt.uid, "name": pt.name, "position": pt.position, "configured": configured.get(pt.uid, -1),
         "start": starts.get(pt.uid), "online": pt.online}
        for pt in sorted(points, key=lambda pt: (pt.station, pt.position))
    ]  # fmt: skip


def _meters(ctx: WbmContext, now: float) -> list[Record]:
    out = []
    for cid in ctx.store.keys("loadcircuit"):
        c = ctx.store.get("loadcircuit", cid)
        if c["meter_connection"] == "none":
            continue
        msg = ctx.client_meters.get(cid, {})  # Modbus/TCP: the Modbus Client's; RS-485: the module's
        age = round(now - float(msg["t"]), 1) if "t" in msg else None
        tcp = c["meter_connection"] == "tcp"
        point_cfg = ctx.store.get("chargepoint", c["rs485_point"]) if not tcp and c["rs485_point"] else None
        out.append({
            "circuit": cid, "name": c["name"], "connection": c["meter_connection"],
            "type": c["meter_type"] if tcp else (point_cfg or {}).get("meter_type", "none"),
            "address": c["meter_ip"] if c["meter_connection"] == "tcp" else c["rs485_point"],
            "unit": c["meter_modbus_id"], "online": bool(msg.get("online")) and age is not None and age < STALE_S,
            "age_s": age, "reading": {k: msg[k] for k in msg if k.endswith(("_mv", "_ma", "_mw", "_wh", "_pm", "_mhz"))},
        })  # fmt: skip
    return out


@router.get("/status", operation_id="modbus_status",
            summary="The Modbus server and client as they act now: services, start addresses, meters")  # fmt: skip
async def modbus_status(ctx: Ctx) -> Record:
    settings: Record = ctx.store.get("modbus")
    return {
        "server": dict(_service(ctx, SERVER.name), enabled=settings["server_enabled"], port=settings["server_port"],
                       read_only=not settings["write_clients"], resets=settings["resets_enabled"]),
        "client": _service(ctx, CLIENT.name),
        "manual_starts": any(e["start"] != -1 for e in settings["start_addresses"]),
        "points": _points(ctx, settings),
        "meters": _meters(ctx, time.time()),
    }  # fmt: skip


def _rows(regs: tuple[registers.Reg, ...]) -> list[Record]:
    return [{"at": r.at, "words": r.size, "type": docs.kind(r), "unit": r.unit, "access": docs.accepts(r),
             "source": r.source, "meaning": r.doc} for r in regs]  # fmt: skip


@router.get("/registers", operation_id="modbus_registers",
            summary="The register map: group registers (absolute) and a point's block (offsets)")  # fmt: skip
async def modbus_registers() -> Record:
    return {
        "group": _rows(registers.GROUP),
        "point": _rows(registers.POINT),
        "block_step": registers.BLOCK_STEP,
        "starts": [registers.START_FIRST, registers.START_LAST],
        "meter_codes": registers.METER_CODES,
    }
