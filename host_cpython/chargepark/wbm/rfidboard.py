"""The CHARX RFID/NFC boards of the park (manual "Charging Stations | CHARX RFID/NFC Board"): one per point
whose reader type is CHARX RFID/NFC, with its configuration (the rfidboard area, or the factory profiles
until saved), the profiles its connection type shows, and the board's firmware version as its module
reported it. Saving goes through the area's own route (PUT /api/wbm/config/rfidboard/records/{uid})."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from iomodule.rfid import board

from chargepark.config.areas import AREAS
from chargepark.wbm.context import WbmContext, of

router = APIRouter(tags=["rfid board"])
Ctx = Annotated[WbmContext, Depends(of)]


def profiles_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Every profile in board.PROFILES order: the saved entries, the factory look for the rest."""
    saved = record["rfid_profiles"]
    factory = board.defaults()
    used = board.used(record["rfid_board_connection"])
    return [dict(saved[i] if i < len(saved) else factory[i], name=name, used=name in used)
            for i, name in enumerate(board.PROFILES)]  # fmt: skip


@router.get("/api/wbm/rfid-boards", operation_id="rfid_boards",
            summary="CHARX RFID/NFC boards: per point with that reader, configuration and firmware")  # fmt: skip
async def rfid_boards(ctx: Ctx) -> dict[str, Any]:
    points = ctx.store.get("chargepoint")
    modules = ctx.store.get("module")
    saved = ctx.store.get("rfidboard")
    boards = []
    for uid, point in sorted(points.items()):
        if point["rfid_reader_type"] != "charx":
            continue
        record = saved.get(uid) or AREAS["rfidboard"].defaults()
        boards.append({"uid": uid, "name": point["name"],
                       "firmware_version": modules.get(uid, {}).get("rfid_board_firmware", ""),
                       "connection": record["rfid_board_connection"], "buzzer_volume": record["rfid_buzzer_volume"],
                       "profiles": profiles_of(record)})  # fmt: skip
    return {
        "boards": boards,
        "connections": board.CONNECTIONS,
        "modes": board.MODES,
        "colours": board.COLOURS,
    }
