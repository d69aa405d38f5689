"""WBM pages of the manual's "Network" chapter: Ethernet, WLAN, Port Sharing, Modem, OpenVPN and the
routing table on one page, each form generated from the network area's schema (`web.netform`) beside
what the system has applied; saving applies (all or nothing) through the WBM API."""

from __future__ import annotations

from typing import Any

import chargeschema
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from chargepark.network import layout
from chargepark.services.web_server.pagekit import Nav, Page, page, refused, to_login
from chargepark.web import netform

router = APIRouter()
NAV: Nav = (("/wbm/network", "Network", "network_status"),)
PAGE_NAMES = tuple(anchor for anchor, _, _ in netform.PAGES)
ROUTE_ACTIONS = ("add", "remove", "restore")


@router.get("/network", response_class=HTMLResponse)
async def network(request: Request) -> Response:
    p = await page(request)
    state = await p.api.get("/api/wbm/network/status")
    record = await p.api.get("/api/wbm/config/network")
    if state is None or record is None:
        return to_login(request)
    return p.render("network.html", pages=netform.layout(record), record=record, state=state, form=netform,
                    kinds=chargeschema, applied=state["applied"], last=state["last_apply"],
                    not_available=layout.NOT_AVAILABLE)  # fmt: skip


def _back(name: str) -> str:
    """The page again, at the part just changed: a new query, so the browser loads it (a changed anchor
    alone would only scroll)."""
    return "/wbm/network?changed=%s#%s" % (name, name)


def _done(p: Page, text: str) -> Response:
    return p.render("_result.html", ok=True, text=text, fields={})


@router.post("/network/apply/{name}", response_class=HTMLResponse)
async def apply(name: str, request: Request) -> Response:
    p = await page(request)
    if name not in PAGE_NAMES:
        return Response(status_code=404)
    form = {k: str(v) for k, v in (await request.form()).items()}
    r = await p.api.call("POST", "/api/wbm/network/apply", netform.parse(form, name))
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": _back(name)})


@router.post("/network/routes/{action}", response_class=HTMLResponse)
async def route(action: str, request: Request) -> Response:
    p = await page(request)
    if action not in ROUTE_ACTIONS:
        return Response(status_code=404)
    form = {k: str(v) for k, v in (await request.form()).items()}
    body: dict[str, Any] = {"network": form.get("network", ""), "gateway": form.get("gateway", ""),
                            "interface": form.get("interface", layout.ETH0)}  # fmt: skip
    metric = form.get("metric", "0").strip()
    body["metric"] = int(metric) if metric.isdigit() else metric
    r = await p.api.call("POST", "/api/wbm/network/routes/" + action, body)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": _back("routes")})


@router.post("/network/vpn/{action}", response_class=HTMLResponse)
async def vpn(action: str, request: Request) -> Response:
    p = await page(request)
    if action not in ("test", "up", "down", "delete"):
        return Response(status_code=404)
    r = await p.api.call(
        "POST", "/api/wbm/network/" + ("vpn-delete" if action == "delete" else "vpn/" + action)
    )
    if r.status_code != 200:
        return refused(p, r)
    if action == "delete":
        return Response(headers={"hx-redirect": _back("openvpn")})
    if action == "test":
        body = r.json()
        return p.render("_log.html", ok=body["connected"], log=body["log"],
                        text=p.gettext("Connected") if body["connected"] else p.gettext("Not connected"))  # fmt: skip
    return _done(p, p.gettext("Started") if action == "up" else p.gettext("Stopped"))


@router.post("/network/vpn-import", response_class=HTMLResponse)
async def vpn_import(request: Request) -> Response:
    p = await page(request)
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return p.render("_result.html", ok=False, text=p.gettext("Choose a file"), fields={})
    try:
        text = (await upload.read()).decode()
    except UnicodeDecodeError:
        return p.render("_result.html", ok=False, text=p.gettext("Not a text file"), fields={})
    r = await p.api.call("POST", "/api/wbm/network/vpn-import", {"name": upload.filename, "text": text})
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": _back("openvpn")})


@router.post("/network/modem/{action}", response_class=HTMLResponse)
async def modem(action: str, request: Request) -> Response:
    p = await page(request)
    if action == "restart":
        r = await p.api.call("POST", "/api/wbm/network/modem/restart")
    elif action == "test":
        form = await request.form()
        r = await p.api.call("POST", "/api/wbm/network/modem/test", {"address": str(form.get("address", ""))})
    else:
        return Response(status_code=404)
    if r.status_code != 200:
        return refused(p, r)
    if action == "test":
        body = r.json()
        return p.render("_log.html", ok=body["answered"], log=body["log"],
                        text=p.gettext("Answered") if body["answered"] else p.gettext("No answer"))  # fmt: skip
    return _done(p, p.gettext("Restarted"))


@router.get("/network/wlan-scan", response_class=HTMLResponse)
async def wlan_scan(request: Request) -> Response:
    p = await page(request)
    r = await p.api.call("GET", "/api/wbm/network/wlan/scan")
    if r.status_code != 200:
        return refused(p, r)
    return p.render("_wlan_scan.html", networks=r.json())
