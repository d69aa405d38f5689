"""WBM pages of System Control (manual "WBM - System Control"): Status (the head, the services, restart,
reboot), Time (set, from the browser, NTP, time zone), Import/Export per sub-register, Log Files,
Developer Mode (user-app's password), Module Switch (this head becomes a client), Software (a signed bundle: upload, verify, install, progress)
and Calibration Law (the settings judged, red not compliant, yellow a warning; the switch)."""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from chargepark.config.checks import PARK_SERVER, USB_HEAD
from chargepark.services.registry import SERVICES
from chargepark.services.web_server.pagekit import Nav, Page, htmx_only, page, refused, to_login
from chargepark.supervisor import CLIENT_SERVICES
from chargepark.wbm.groups import GROUPS, group_op

router = APIRouter()
NAV: Nav = (
    ("/wbm/system", "System Control/Status", "services_status"),
    ("/wbm/time", "System Control/Time", "time_show"),
    ("/wbm/backup", "Import/Export", "config_export_all"),
    ("/wbm/logs", "Log Files", "logs_download"),
    ("/wbm/developer", "System Control/Developer Mode", "developer_status"),
    ("/wbm/module-switch", "System Control/Module Switch", "module_switch"),
    ("/wbm/software", "System Control/Software", "software_status"),
    ("/wbm/calibration-law", "System Control/Calibration Law", "calibration_law_status"),
)
ZONES = sorted(zoneinfo.available_timezones())
NTP_SERVERS = 3  # the system area's ntp_servers hold at most three


def _done(p: Page, text: str) -> HTMLResponse:
    return p.render("_result.html", ok=True, text=text, fields={})


async def _confirmed(
    request: Request,
    path: str,
    done: Callable[[Page], str],
    body_of: Callable[[FormData], dict[str, str]] | None = None,
) -> Response:
    """A write a page confirms (htmx only: a cross-site form cannot send its header): the form's body, if
    any, POSTed to the API; its refusal with the reason, or `done`'s text."""
    p = await page(request)
    if not htmx_only(request):
        return Response(status_code=400)
    body = body_of(await request.form()) if body_of is not None else None
    r = await p.api.call("POST", path, body)
    if r.status_code != 200:
        return refused(p, r)
    return _done(p, done(p))


async def _json_file(request: Request) -> Any:
    """The uploaded file of the form as JSON, or None."""
    upload = (await request.form()).get("file")
    try:
        return json.loads(await upload.read()) if isinstance(upload, UploadFile) else None
    except ValueError:
        return None


async def _may_see(request: Request, op: str) -> Page | None:
    p = await page(request)
    if not p.may(op) or p.who.get("password_change_required"):
        return None
    return p


# ---- Status --------------------------------------------------------------------------------------


@router.get("/system", response_class=HTMLResponse)
async def system(request: Request) -> Response:
    p = await page(request)
    services = await p.api.get("/api/wbm/services")
    head = await p.api.get("/api/wbm/system")
    if services is None or head is None:
        return to_login(request)
    return p.render("system.html", services=services, head=head, m=head["monitor"])


@router.post("/system/restart/{name}", response_class=HTMLResponse)
async def restart(name: str, request: Request) -> Response:
    p = await page(request)
    r = await p.api.call("POST", "/api/wbm/services/%s/restart" % name)
    if r.status_code != 200:
        return refused(p, r)
    return _done(p, p.gettext("Restarted"))


@router.post("/system/reboot", response_class=HTMLResponse)
async def reboot(request: Request) -> Response:
    return await _confirmed(request, "/api/wbm/system/reboot",
                            lambda p: p.gettext("The system restarts: every service is stopped and started again."))  # fmt: skip


# ---- Calibration Law -----------------------------------------------------------------------------


@router.get("/calibration-law", response_class=HTMLResponse)
async def calibration_law(request: Request) -> Response:
    p = await page(request)
    law = await p.api.get("/api/wbm/calibration-law")
    if law is None:
        return to_login(request)
    return p.render("calibration_law.html", law=law)


@router.post("/calibration-law/switch-on", response_class=HTMLResponse)
async def calibration_law_on(request: Request) -> Response:
    return await _confirmed(request, "/api/wbm/calibration-law/switch-on",
                            lambda p: p.gettext("Calibration law is on: the system restarts with the Calibration Law Agent."))  # fmt: skip


# ---- Time ----------------------------------------------------------------------------------------


@router.get("/time", response_class=HTMLResponse)
async def time_page(request: Request) -> Response:
    p = await page(request)
    shown = await p.api.get("/api/wbm/time")
    if shown is None:
        return to_login(request)
    servers = (shown["ntp_servers"] + [""] * NTP_SERVERS)[:NTP_SERVERS]
    return p.render("time.html", t=shown, servers=servers, zones=ZONES)


@router.post("/time/set", response_class=HTMLResponse)
async def time_set(request: Request) -> Response:
    p = await page(request)
    form = await request.form()
    r = await p.api.call("PUT", "/api/wbm/time", {"utc": str(form.get("utc", "")).strip()})
    if r.status_code != 200:
        return refused(p, r)
    if not r.json()["applied"]:
        text = p.gettext("Development head: the command is listed only, the clock is unchanged")
        return p.render("_time_applied.html", text=text, commands=[])
    return Response(headers={"hx-redirect": "/wbm/time"})


@router.post("/time/settings", response_class=HTMLResponse)
async def time_settings(request: Request) -> Response:
    p = await page(request)
    form = await request.form()
    servers = [str(form.get("ntp_server_%d" % i, "")).strip() for i in range(NTP_SERVERS)]
    body = {"ntp_enabled": "ntp_enabled" in form, "ntp_servers": [s for s in servers if s],
            "timezone": str(form.get("timezone", ""))}  # fmt: skip
    r = await p.api.call("PUT", "/api/wbm/time/settings", body)
    if r.status_code != 200:
        return refused(p, r)
    done = r.json()
    text = (
        p.gettext("Applied")
        if done["applied"]
        else p.gettext("Saved (development head: commands listed only)")
    )
    return p.render("_time_applied.html", text=text, commands=done["commands"])


# ---- Import/Export -------------------------------------------------------------------------------


@router.get("/backup", response_class=HTMLResponse)
async def backup(request: Request) -> Response:
    p = await _may_see(request, "config_export_all")
    if p is None:
        return to_login(request)
    groups = [(g, title, p.may(group_op(g, "import"))) for g, (title, _) in GROUPS.items()]
    return p.render("backup.html", groups=groups)


@router.post("/backup/{group}/import", response_class=HTMLResponse)
async def backup_import(group: str, request: Request) -> Response:
    p = await page(request)
    path = ("/api/wbm/backup/%s/import" % group) if group in GROUPS else "/api/wbm/config/import"
    if group not in GROUPS and group != "whole":
        return Response(status_code=404)
    doc = await _json_file(request)
    if not isinstance(doc, dict):
        return p.render("_result.html", ok=False, text=p.gettext("Not a JSON configuration file"), fields={})
    r = await p.api.call("POST", path, doc)
    if r.status_code != 200:
        return refused(p, r)
    return _done(p, p.gettext("Imported"))


# ---- Log Files -----------------------------------------------------------------------------------


@router.get("/logs", response_class=HTMLResponse)
async def logs(request: Request) -> Response:
    p = await _may_see(request, "logs_download")
    if p is None:
        return to_login(request)
    return p.render("logs.html")


# ---- Developer Mode ------------------------------------------------------------------------------


@router.get("/developer", response_class=HTMLResponse)
async def developer(request: Request) -> Response:
    p = await _may_see(request, "developer_status")
    if p is None:
        return to_login(request)
    r = await p.api.call("GET", "/api/wbm/developer")
    state = r.json() if r.status_code == 200 else None
    problem = None if state else p.message(str(r.json().get("error", r.status_code)))
    return p.render("developer.html", state=state, problem=problem)


@router.post("/developer/password", response_class=HTMLResponse)
async def developer_password(request: Request) -> Response:
    p = await page(request)
    form = await request.form()
    if form.get("new_password") != form.get("repeat"):
        return p.render("_result.html", ok=False, text=p.gettext("The new passwords differ"), fields={})
    body = {
        "old_password": str(form.get("old_password", "")),
        "new_password": str(form.get("new_password", "")),
    }
    r = await p.api.call("POST", "/api/wbm/developer/password", body)
    if r.status_code != 200:
        return refused(p, r)
    return _done(p, p.gettext("Password changed"))


@router.post("/developer/reset", response_class=HTMLResponse)
async def developer_reset(request: Request) -> Response:
    return await _confirmed(request, "/api/wbm/developer/password/reset",
                            lambda p: p.gettext("Password reset to the delivery state"))  # fmt: skip


# ---- Module Switch -------------------------------------------------------------------------------


@router.get("/module-switch", response_class=HTMLResponse)
async def module_switch(request: Request) -> Response:
    p = await _may_see(request, "module_switch")
    head = await p.api.get("/api/wbm/system") if p else None
    if p is None or head is None:
        return to_login(request)
    stopped = [s.title for s in SERVICES if s.installed and s.name not in CLIENT_SERVICES]
    first_client = str(PARK_SERVER + 1)  # the park's addresses after the server's
    return p.render("module_switch.html", head=head, stopped=stopped, usb=USB_HEAD, first_client=first_client)


@router.post("/module-switch", response_class=HTMLResponse)
async def module_switch_now(request: Request) -> Response:
    return await _confirmed(
        request, "/api/wbm/system/module-switch",
        lambda p: p.gettext("This head is a client now: its services restart, the server's stay off."),
        lambda form: {"address": str(form.get("address", "")).strip(), "park_password": str(form.get("park_password", ""))},
    )  # fmt: skip


@router.post("/park-password", response_class=HTMLResponse)
async def park_password_now(request: Request) -> Response:
    return await _confirmed(
        request, "/api/wbm/system/park-password",
        lambda p: p.gettext("Park password stored: it takes effect at this head's next reboot (System Control/Status)."),
        lambda form: {"park_password": str(form.get("park_password", ""))},
    )  # fmt: skip


# ---- Software ------------------------------------------------------------------------------------


@router.get("/software", response_class=HTMLResponse)
async def software(request: Request) -> Response:
    p = await page(request)
    state = await p.api.get("/api/wbm/software")
    if state is None:
        return to_login(request)
    return p.render("software.html", s=state)


@router.get("/software/progress", response_class=HTMLResponse)
async def software_progress(request: Request) -> Response:
    p = await page(request)
    state = await p.api.get("/api/wbm/software")
    if state is None:
        return Response(status_code=401)
    return p.render("_software_job.html", s=state)


@router.post("/software/upload", response_class=HTMLResponse)
async def software_upload(request: Request) -> Response:
    p = await page(request)
    upload = (await request.form()).get("bundle")
    if not isinstance(upload, UploadFile):
        return p.render("_result.html", ok=False, text=p.gettext("Choose a software bundle"), fields={})
    r = await p.api.client.put("/api/wbm/software/bundle", content=await upload.read(),
                               headers={"content-type": "application/octet-stream"})  # fmt: skip
    if r.status_code != 200:
        return refused(p, r)
    return p.render("_software_verified.html", v=r.json())


@router.post("/software/install", response_class=HTMLResponse)
async def software_install(request: Request) -> Response:
    p = await page(request)
    r = await p.api.call("POST", "/api/wbm/software/install")
    if r.status_code != 200:
        return refused(p, r)
    return Response(headers={"hx-redirect": "/wbm/software"})
