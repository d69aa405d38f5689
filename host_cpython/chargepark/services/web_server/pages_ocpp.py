"""WBM page "OCPP" (manual "WBM - OCPP"): the connection to the backend (green/red, since when, why it
ended), the OCPP points and the status the backend last got from each, the last 50 messages, the settings
(the ocpp area's WBM-only fields and the Basic Authentication) and the Servervariables (the OCPP keys,
editable; the read-only keys displayed), "RESTART OCPP SERVICE", the CA certificate of a wss:// backend
("Upload Certificate": chosen in the settings form, kept by its Save; "Delete Certificate"). Every value from
the WBM API."""

from __future__ import annotations

import time
from typing import Any

import chargeschema as cs
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from chargepark.config.schemas import OCPP
from chargepark.ocpp.keys import SECRET
from chargepark.services.ocpp16.spec import SPEC as SERVICE
from chargepark.services.web_server.pagekit import Nav, htmx_only, page, refused, to_login

router = APIRouter()
NAV: Nav = (("/wbm/ocpp", "OCPP", "ocpp_status"),)
SETTINGS = tuple(f for f in OCPP if f.wbm_only or f.name in SECRET)  # the manual's "OCPP settings"
VARIABLES = tuple(f for f in OCPP if f not in SETTINGS)  # its "Servervariables" that may be changed


def parse(form: dict[str, str]) -> dict[str, Any]:
    """The submitted fields in their schema types (the store validates the values)."""
    out: dict[str, Any] = {}
    for f in OCPP:
        if f.name not in form:
            continue
        raw = form[f.name].strip()
        if f.kind == cs.BOOL:
            out[f.name] = raw == "true"
        elif f.kind == cs.INT:
            out[f.name] = int(raw) if raw.lstrip("-").isdigit() else raw  # not a number: the store says why
        else:
            out[f.name] = raw
    return out


def clock(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t)) if t else "-"


@router.get("/ocpp", response_class=HTMLResponse)
async def ocpp(request: Request) -> Response:
    p = await page(request)
    state = await p.api.get("/api/wbm/ocpp")
    record = await p.api.get("/api/wbm/config/ocpp")
    if state is None or record is None:
        return to_login(request)
    return p.render("ocpp.html", state=state, record=record, settings=SETTINGS, variables=VARIABLES,
                    kinds=cs, clock=clock, service=SERVICE.name)  # fmt: skip


@router.post("/ocpp", response_class=HTMLResponse)
async def ocpp_save(request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=403)
    data = await request.form()
    upload = data.get("certificate")
    if (
        isinstance(upload, UploadFile) and upload.filename
    ):  # checked and kept first: refused, nothing is saved
        r = await p.api.client.put("/api/wbm/ocpp/certificate", content=await upload.read(),
                                   headers={"content-type": "application/x-pem-file"})  # fmt: skip
        if r.status_code != 200:
            return refused(p, r)
    form = {k: str(v) for k, v in data.items() if not isinstance(v, UploadFile)}
    r = await p.api.call("PUT", "/api/wbm/config/ocpp", parse(form))
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/ocpp?saved=1"})


@router.post("/ocpp/certificate/delete", response_class=HTMLResponse)
async def certificate_delete(request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=403)
    r = await p.api.call("DELETE", "/api/wbm/ocpp/certificate")
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/ocpp"})
