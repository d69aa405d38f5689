"""WBM page "Load Management" (manual "WBM - Load Management"): per load circuit its status (active,
limiting, monitored points, current and planned current, per phase with its budget, and why each point is
limited), its configuration and the selection of its charging points (written through the WBM API's
configuration routes of the `loadcircuit` area), and the simulated day's plot. The form's fields come from
the area's schema (`config.schemas.LOADCIRCUIT`)."""

from __future__ import annotations

from typing import Any

import chargeschema as cs
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chargepark.auth.matrix import config_op
from chargepark.config.areas import AREAS
from chargepark.loadmgmt import allocate, manager, surplus
from chargepark.services.web_server.pagekit import Nav, htmx_only, page, refused, to_login
from chargepark.web import forms

router = APIRouter()
NAV: Nav = (("/wbm/loadmanagement", "Load Management", "loadmgmt_status"),)
AREA = AREAS["loadcircuit"]
BY_NAME = {f.name: f for f in AREA.fields}
ENTRY = {f.name: f for f in BY_NAME["points"].item or ()}
# the form's groups: the circuit's own fields (the points are the selection below)
GROUPS: forms.Groups = (
    ("Load circuit", ("name", "fuse_a", "threshold_a", "strategy")),
    ("High level measuring device", ("meter_connection", "meter_ip", "meter_type", "meter_modbus_id",
                                     "rs485_point", "upstream_fuse_a")),
    ("Surplus charging", ("surplus_start_w", "surplus_stop_w", "surplus_min_run_s")),
)  # fmt: skip
SHOWN_WHEN: forms.Rules = {
    "meter_ip": ("meter_connection", ("tcp",)),
    "meter_type": ("meter_connection", ("tcp",)),
    "meter_modbus_id": ("meter_connection", ("tcp",)),  # RS-485: the point meter's address + 1 (manual)
    "rs485_point": ("meter_connection", ("rs485",)),
    "upstream_fuse_a": ("meter_connection", ("tcp", "rs485")),
}
ENTRY_FIELDS = tuple(n for n in ENTRY if n != "uid")  # per selected point: surplus, its phase contactor


def reasons() -> set[str]:
    """Every name "why is this point limited" and a phase's budget may give (shown translated)."""
    names = {allocate.WANTS_LESS, allocate.MAXIMUM, allocate.PAUSED_MINIMUMS, allocate.BELOW_MINIMUM,
             allocate.IDLE, allocate.FUSE, allocate.UPSTREAM, surplus.SURPLUS, manager.MODBUS, "modbus_167",
             "cable", "ocpp", "module", "unmanaged"}  # fmt: skip
    return names | set(manager.OCPP_LIMITS.values()) | set(manager.MODULE_REASONS)


def msgids() -> set[str]:
    """The texts this page takes from the schema and the load management's reasons (for the catalogs)."""
    ids = {title for title, _ in GROUPS} | reasons()
    for f in [BY_NAME[n] for _, names in GROUPS for n in names] + [ENTRY[n] for n in ENTRY_FIELDS]:
        ids.add(f.doc)
        ids.update(str(c) for c in f.choices or ())
    return ids


def _record(form: dict[str, str], points: list[dict[str, Any]]) -> dict[str, Any]:
    """The circuit's fields of the form, typed, and its selected points with their own settings."""
    record = {n: forms.typed(BY_NAME[n], form.get(n)) for _, names in GROUPS for n in names
              if n in form or BY_NAME[n].kind == cs.BOOL}  # fmt: skip
    record["points"] = [
        dict({n: forms.typed(ENTRY[n], form.get("%s.%s" % (pt["uid"], n))) for n in ENTRY_FIELDS
              if "%s.%s" % (pt["uid"], n) in form or ENTRY[n].kind == cs.BOOL}, uid=pt["uid"])
        for pt in points if "%s.member" % pt["uid"] in form
    ]  # fmt: skip
    return record


@router.get("/loadmanagement", response_class=HTMLResponse)
async def load_management(request: Request) -> Response:
    p = await page(request)
    got = await p.api.get("/api/wbm/loadmanagement")
    if got is None:
        return to_login(request)
    circuits = []
    for c in got["circuits"]:
        members = {e["uid"]: e for e in c["config"]["points"]}
        circuits.append(
            dict(c, groups=forms.layout(c["config"], GROUPS, BY_NAME, SHOWN_WHEN, ()), members=members)
        )
    return p.render("loadmgmt.html", circuits=circuits, points=got["points"], plot=got["plot"], kinds=cs,
                    entry=[ENTRY[n] for n in ENTRY_FIELDS], may_write=p.may(config_op("loadcircuit", "write")),
                    may_delete=p.may(config_op("loadcircuit", "delete")))  # fmt: skip


@router.post("/loadmanagement/{cid}", response_class=HTMLResponse)
async def save(cid: str, request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=400)
    got = await p.api.get("/api/wbm/loadmanagement")
    if got is None:
        return to_login(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    r = await p.api.call("PUT", "/api/wbm/config/loadcircuit/records/%s" % cid, _record(form, got["points"]))
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/loadmanagement"})


@router.post("/loadmanagement-new", response_class=HTMLResponse)
async def create(request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=400)
    form = await request.form()
    cid = str(form.get("id", "")).strip()
    body = {
        "name": str(form.get("name", "")).strip() or cid,
        "fuse_a": forms.typed(BY_NAME["fuse_a"], str(form.get("fuse_a", ""))),
    }
    r = await p.api.call("PUT", "/api/wbm/config/loadcircuit/records/%s" % (cid or "-"), body)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/loadmanagement"})


@router.post("/loadmanagement/{cid}/delete", response_class=HTMLResponse)
async def delete(cid: str, request: Request) -> Response:
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=400)
    r = await p.api.call("DELETE", "/api/wbm/config/loadcircuit/records/%s" % cid)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/loadmanagement"})
