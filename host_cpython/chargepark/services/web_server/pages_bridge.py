"""WBM page "MQTT Bridge" (manual "MQTT Bridge/Configuration" and "MQTT Topic Forwarding"): the mqtt_bridge
area's settings (the form generated from its schema, the CA certificate uploaded as a file), beside the
bridge's connection as the bridge service reports it and each forwarding row's full remote topic (the info
pop-up). "Clear configuration" sets the area back to its factory defaults."""

from __future__ import annotations

import chargeschema
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from chargepark.ocpp import cacert
from chargepark.services.web_server.pagekit import Nav, htmx_only, page, refused, to_login
from chargepark.web import bridgeform, netform

router = APIRouter()
NAV: Nav = (("/wbm/bridge", "MQTT Bridge", "bridge_status"),)
AREA = "/api/wbm/config/mqtt_bridge"


@router.get("/bridge", response_class=HTMLResponse)
async def bridge(request: Request) -> Response:
    p = await page(request)
    state = await p.api.get("/api/wbm/bridge/status")
    record = await p.api.get(AREA)
    if state is None or record is None:
        return to_login(request)
    return p.render("bridge.html", state=state, fields=bridgeform.layout(record), bform=bridgeform,
                    form=netform, kinds=chargeschema)  # fmt: skip


@router.post("/bridge/save/{section}", response_class=HTMLResponse)
async def bridge_save(section: str, request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request) or section not in bridgeform.SECTIONS:
        return Response(status_code=403 if section in bridgeform.SECTIONS else 404)
    data = await request.form()
    body = bridgeform.parse({k: str(v) for k, v in data.items() if not isinstance(v, UploadFile)}, section)
    upload = data.get(bridgeform.CERTIFICATE) if section == "config" else None
    if (
        isinstance(upload, UploadFile) and upload.filename
    ):  # the area's checks refuse a bad one, nothing saved
        body[bridgeform.CERTIFICATE] = (await upload.read(cacert.MAX_BYTES + 1)).decode("utf-8", "replace")
    r = await p.api.call("PUT", AREA, body)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/bridge?saved=1"})


@router.post("/bridge/clear", response_class=HTMLResponse)
async def bridge_clear(request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=403)
    r = await p.api.call("DELETE", AREA)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/bridge?cleared=1"})
