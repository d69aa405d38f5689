"""WBM pages of the charging points: the dashboard, the park tree, a point's status page with its operations
(Table 5-4), its configuration form and its Event Actions."""

from __future__ import annotations

import json
from typing import Any

import chargedefs as cd
import chargeschema
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from chargepark.auth.roles import Role
from chargepark.release import gate
from chargepark.services.web_server.pagekit import Nav, Page, page, refused, to_login
from chargepark.wbm.live import OCCUPIED
from chargepark.web import eventactions, forms, status

router = APIRouter()
NAV: Nav = (
    ("/wbm/", "Dashboard", "dashboard_summary"),
    ("/wbm/stations", "Charging Stations", "park_tree"),
)
OPERATIONS = (  # Table 5-4: button -> API path tail, operation id
    ("enabled", "point_enable"),
    ("charging-allowed", "point_release"),
    ("enforce-unlock", "point_enforce_unlock"),
)
DASHBOARD_RELEASE = gate.modes_for("dashboard")  # where the WBM's Allow/Prohibit Charging is the release


def shown_operations(cfg: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Table 5-4's buttons of a point: Allow/Prohibit Charging only where its release mode takes the release
    from the WBM (the gate refuses it anyway; permanent: never withdrawn)."""
    mode = (cfg or {}).get("release_mode", "")
    return tuple(op for op in OPERATIONS if op[1] != "point_release" or mode in DASHBOARD_RELEASE)


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    p = await page(request)
    return p.render("dashboard.html", park=await p.api.get("/api/park"), statuses=cd.STATUSES,
                    release_modes=DASHBOARD_RELEASE, status_text={s: p.gettext(s) for s in cd.STATUSES},
                    occupied=[cd.STATUSES[code] for code in sorted(OCCUPIED)])  # fmt: skip


@router.get("/fragments/dashboard", response_class=HTMLResponse)
async def dashboard_fragment(request: Request) -> Response:
    p = await page(request)
    return p.render(
        "_dashboard_body.html", park=await p.api.get("/api/park"), release_modes=DASHBOARD_RELEASE
    )


@router.get("/stations", response_class=HTMLResponse)
async def stations(request: Request) -> Response:
    p = await page(request)
    tree = await p.api.get("/api/wbm/park")
    if tree is None:
        return to_login(request)
    live = await p.api.get("/api/wbm/live") or {"points": []}
    return p.render("stations.html", tree=tree, live={pt["uid"]: pt for pt in live["points"]})


@router.post("/stations/import", response_class=HTMLResponse)
async def import_to_points(request: Request) -> Response:
    p = await page(request)
    form = await request.form()
    upload = form.get("file")
    try:
        doc = json.loads(await upload.read()) if isinstance(upload, UploadFile) else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return p.render("_result.html", ok=False, text=p.gettext("Not a JSON configuration file"), fields={})
    body = {"file": doc, "points": [str(v) for v in form.getlist("points")], "suffix": "suffix" in form}
    r = await p.api.call("POST", "/api/wbm/config/chargepoint/import-to-points", body)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/stations"})


async def point_of(p: Page, uid: str) -> dict[str, Any] | None:
    tree = await p.api.get("/api/wbm/park")
    for st in (tree or {}).get("stations", []):
        for pt in st["points"]:
            if pt["uid"] == uid:
                return {**pt, "station_name": st["name"]}
    return None


async def status_values(p: Page, uid: str) -> dict[str, Any]:
    point = await point_of(p, uid)
    live = await p.api.get("/api/wbm/live/%s" % uid) or {}
    cfg = (
        await p.api.get("/api/wbm/config/chargepoint/records/%s" % uid)
        if point and point["configured"]
        else None
    )
    head = await p.api.get("/api/wbm/network/head")
    return {
        "point": point,
        "groups": status.groups(point or {}, live, cfg, head, p.lang),
        "live": live,
        "cfg": cfg,
    }


@router.get("/stations/{uid}", response_class=HTMLResponse)
async def point_status(uid: str, request: Request) -> Response:
    p = await page(request)
    values = await status_values(p, uid)
    if values["point"] is None:
        return to_login(request) if p.role == Role.GUEST else p.render("_result.html", ok=False,
                                                                      text=uid, fields={})  # fmt: skip
    return p.render("status.html", uid=uid, operations=shown_operations(values["cfg"]), **values)


@router.get("/fragments/status/{uid}", response_class=HTMLResponse)
async def point_status_fragment(uid: str, request: Request) -> Response:
    p = await page(request)
    return p.render("_status_groups.html", uid=uid, **(await status_values(p, uid)))


@router.post("/stations/{uid}/operation/{name}", response_class=HTMLResponse)
async def operation(uid: str, name: str, request: Request, on: bool = True) -> Response:
    p = await page(request)
    if name == "reset-error":
        r = await p.api.call("POST", "/api/wbm/points/%s/reset-error" % uid)
    elif name in dict(OPERATIONS):
        r = await p.api.call("PUT", "/api/wbm/points/%s/%s" % (uid, name), {"on": on})
    else:
        return Response(status_code=404)
    if r.status_code != 200:
        return refused(p, r)
    return p.render("_result.html", ok=True, text=p.gettext("Confirmed by the charging point"), fields={})


@router.post("/stations/{uid}/delete", response_class=HTMLResponse)
async def delete_config(uid: str, request: Request) -> Response:
    p = await page(request)
    r = await p.api.call("DELETE", "/api/wbm/config/chargepoint/records/%s" % uid)
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/stations"})


@router.get("/stations/{uid}/config", response_class=HTMLResponse)
async def config_form(uid: str, request: Request) -> Response:
    p = await page(request)
    point = await point_of(p, uid)
    if point is None:
        return to_login(request)
    record = await p.api.get("/api/wbm/config/chargepoint/records/%s" % uid) if point["configured"] else {}
    tree = await p.api.get("/api/wbm/park")
    others = [pt for st in tree["stations"] for pt in st["points"] if pt["configured"] and pt["uid"] != uid]
    return p.render("config.html", uid=uid, point=point, groups=forms.layout(record or {}), others=others,
                    kinds=chargeschema, product=forms.product)  # fmt: skip


@router.post("/stations/{uid}/config", response_class=HTMLResponse)
async def config_save(uid: str, request: Request) -> Response:
    p = await page(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    if form.get("copy_from"):
        r = await p.api.call("POST", "/api/wbm/config/chargepoint/records/%s/copy-from/%s"
                             % (uid, form["copy_from"]))  # fmt: skip
    else:
        r = await p.api.call("PUT", "/api/wbm/config/chargepoint/records/%s" % uid, forms.parse(form))
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/stations/%s" % uid})


async def event_actions_page(p: Page, uid: str, entries: list[dict[str, Any]] | None = None,
                             result: dict[str, Any] | None = None) -> Response:  # fmt: skip
    record = await p.api.get("/api/wbm/config/chargepoint/records/%s" % uid)
    if record is None:
        return to_login(p.request)
    rows = eventactions.rows({"event_actions": entries}) if entries is not None else eventactions.rows(record)
    io = eventactions.io_state(await p.api.get("/api/wbm/live/%s" % uid) or {}, p.lang)
    return p.render("event_actions.html", uid=uid, record=record, rows=rows, ea=eventactions,
                    kinds=chargeschema, result=result, io=io, io_text=eventactions.io_texts(p.gettext))  # fmt: skip


@router.get("/stations/{uid}/event-actions", response_class=HTMLResponse)
async def event_actions(uid: str, request: Request) -> Response:
    return await event_actions_page(await page(request), uid)


@router.post("/stations/{uid}/event-actions", response_class=HTMLResponse)
async def event_actions_edit(uid: str, request: Request) -> Response:
    p = await page(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    entries = eventactions.apply(eventactions.parse(form), form.get("op", "save"))
    r = await p.api.call("PUT", "/api/wbm/config/chargepoint/records/%s" % uid, {"event_actions": entries})
    if r.status_code == 200:
        return await event_actions_page(p, uid, result={"ok": True, "text": p.gettext("Saved"), "fields": {}})
    body = r.json()
    text = p.message(str(body.get("error", r.status_code)))
    return await event_actions_page(
        p, uid, entries, {"ok": False, "text": text, "fields": body.get("fields") or {}}
    )
