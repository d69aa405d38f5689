"""WBM page "Modbus": the Modbus/TCP server's settings (the modbus area, its form generated from the
schema) beside how the server acts now (service, read-only or not, each point's start address as laid
out, reachable or not), the load circuits' higher-level meters with their last reading, and the register
map (the one table, `modbus.registers`)."""

from __future__ import annotations

import chargeschema
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chargepark.services.modbus_server.spec import SPEC as SERVER
from chargepark.services.web_server.pagekit import Nav, page, refused, to_login
from chargepark.web import modbusform, netform

router = APIRouter()
NAV: Nav = (("/wbm/modbus", "Modbus", "modbus_status"),)


@router.get("/modbus", response_class=HTMLResponse)
async def modbus(request: Request) -> Response:
    p = await page(request)
    state = await p.api.get("/api/wbm/modbus/status")
    record = await p.api.get("/api/wbm/config/modbus")
    if state is None or record is None:
        return to_login(request)
    return p.render("modbus.html", state=state, fields=modbusform.layout(record, [pt["uid"] for pt in state["points"]]), mform=modbusform, form=netform,
                    kinds=chargeschema, server=SERVER.name)  # fmt: skip


@router.post("/modbus", response_class=HTMLResponse)
async def modbus_save(request: Request) -> Response:
    p = await page(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    r = await p.api.call("PUT", "/api/wbm/config/modbus", modbusform.parse(form))
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/modbus?saved=1"})


@router.get("/modbus/registers", response_class=HTMLResponse)
async def registers(request: Request) -> Response:
    p = await page(request)
    table = await p.api.get("/api/wbm/modbus/registers")
    if table is None:
        return to_login(request)
    return p.render("modbus_registers.html", table=table)
