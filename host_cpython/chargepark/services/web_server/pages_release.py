"""WBM page of the charging release: the park's whitelist (manual "WBM - Whitelist") with its entries (add,
edit, delete), CSV import and export, the recently scanned cards to take over, and teach-in/teach-out
at a reader. Every value comes from and goes to the WBM API (wbm/whitelist.py, config_whitelist_*)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from chargepark.services.web_server.pagekit import Nav, Page, page, refused, to_login

router = APIRouter()
NAV: Nav = (("/wbm/whitelist", "Whitelist", "config_whitelist_list"),)
EXPIRY_DEFAULT = "2099-12-31T23:59:59Z"


async def _page(p: Page, result: dict[str, Any] | None = None, edit: str = "") -> Response:
    entries = await p.api.get("/api/wbm/config/whitelist")
    if entries is None:
        return to_login(p.request)
    tree = await p.api.get("/api/wbm/park") or {"stations": []}
    readers = [pt for st in tree["stations"] for pt in st["points"] if pt["configured"]]
    return p.render("whitelist.html", entries=sorted(entries.items()), recent=await p.api.get("/api/wbm/whitelist/recent"),
                    readers=readers, result=result, edit=edit, editing=entries.get(edit), default_expiry=EXPIRY_DEFAULT)  # fmt: skip


def _ok(p: Page, text: str) -> dict[str, Any]:
    return {"ok": True, "text": p.gettext(text), "fields": {}}


@router.get("/whitelist", response_class=HTMLResponse)
async def whitelist(request: Request, edit: str = "") -> Response:
    return await _page(await page(request), edit=edit)


@router.post("/whitelist/entry", response_class=HTMLResponse)
async def save_entry(request: Request) -> Response:
    p = await page(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    date, clock = form.get("expiry_date", ""), form.get("expiry_time", "") or "23:59:59"
    body = {"type": form.get("type", "rfid"), "name": form.get("name", ""), "allow_charging": "allow_charging" in form,
            "expiry_utc": "%sT%s%sZ" % (date, clock, ":00" if len(clock) == 5 else "") if date else EXPIRY_DEFAULT}  # fmt: skip
    r = await p.api.call("PUT", "/api/wbm/whitelist/entries/%s" % form.get("tag", "").strip(), body)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/whitelist"})


@router.post("/whitelist/delete/{tag}", response_class=HTMLResponse)
async def delete_entry(tag: str, request: Request) -> Response:
    p = await page(request)
    r = await p.api.call("DELETE", "/api/wbm/config/whitelist/records/%s" % tag)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/whitelist"})


@router.post("/whitelist/import", response_class=HTMLResponse)
async def import_csv(request: Request) -> Response:
    p = await page(request)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return p.render("_result.html", ok=False, text=p.gettext("Choose a CSV file first"), fields={})
    replace = form.get("how") == "replace"
    r = await p.api.client.post("/api/wbm/whitelist/csv", params={"replace": str(replace).lower()},
                                content=await upload.read(), headers={"content-type": "text/csv"})  # fmt: skip
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/whitelist"})


@router.post("/whitelist/teach", response_class=HTMLResponse)
async def teach(request: Request) -> Response:
    p = await page(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    r = await p.api.call("POST", "/api/wbm/whitelist/teach", {"reader": form.get("reader", ""),
                                                              "mode": form.get("mode", "in")})  # fmt: skip
    if r.status_code != 200:
        return refused(p, r)
    text = (
        "Teach-in armed: present the card"
        if form.get("mode") == "in"
        else "Teach-out armed: present the card"
    )
    return p.render("_result.html", ok=True, text=p.gettext(text), fields={})
