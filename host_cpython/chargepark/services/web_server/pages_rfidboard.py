"""WBM page "Charging Stations | CHARX RFID/NFC Board": one section per board (the points whose reader type
is CHARX RFID/NFC), with its firmware version, connection type, buzzer volume and every LED profile. The
entry shows only while a point uses that reader type (manual). Data from the WBM API (wbm/rfidboard.py);
saving through the rfidboard area's route."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from iomodule.rfid import board

from chargepark.services.web_server.pagekit import Nav, page, refused, to_login

router = APIRouter()
NAV: Nav = (("/wbm/rfid-board", "CHARX RFID/NFC Board", "rfid_boards"),)
NUMBERS = ("brightness", "period_ms", "min_brightness", "max_brightness")


def any_board(listing: Any) -> bool:
    """Whether the navigation shows the page: a point uses the CHARX RFID/NFC reader."""
    return bool(listing and listing["boards"])


NAV_WHEN = {"/wbm/rfid-board": ("/api/wbm/rfid-boards", any_board)}


@router.get("/rfid-board", response_class=HTMLResponse)
async def boards_page(request: Request) -> Response:
    p = await page(request)
    listing = await p.api.get("/api/wbm/rfid-boards")
    if listing is None:
        return to_login(request)
    return p.render("rfidboard.html", listing=listing, profiles=board.PROFILES)


def record_of(form: dict[str, str]) -> dict[str, Any]:
    """The rfidboard record a board's form describes (numbers the area validates; a non-number is refused
    there with its field)."""
    profiles = []
    for i in range(len(board.PROFILES)):
        entry: dict[str, Any] = {
            "mode": form.get("p-%d-mode" % i, ""),
            "colour": form.get("p-%d-colour" % i, ""),
        }
        for name in NUMBERS:
            raw = form.get("p-%d-%s" % (i, name), "").strip()
            entry[name] = int(raw) if raw.lstrip("-").isdigit() else raw
        profiles.append(entry)
    volume = form.get("volume", "").strip()
    return {"rfid_board_connection": form.get("connection", ""),
            "rfid_buzzer_volume": int(volume) if volume.isdigit() else volume, "rfid_profiles": profiles}  # fmt: skip


@router.post("/rfid-board/{uid}", response_class=HTMLResponse)
async def save_board(uid: str, request: Request) -> Response:
    p = await page(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    r = await p.api.call("PUT", "/api/wbm/config/rfidboard/records/%s" % uid, record_of(form))
    if r.status_code != 200:
        return refused(p, r)
    return p.render("_result.html", ok=True, text=p.gettext("Saved"), fields={})
