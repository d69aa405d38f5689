"""System Control (manual "WBM - System Control"): Status (the head's version and uptime, the system
monitor's CPU, memory and disk, the service table, restarting one service or all of them: the reboot),
Time (show in UTC and the chosen time zone, set, NTP), Log Files (one zip of every service's log and the
last update's), Developer Mode (the password of the Linux user `user-app`). The machine is changed through
`wbm.systemhost`; Import/Export is `wbm.backup`, Software `wbm.software`."""

from __future__ import annotations

import asyncio
import tempfile
import time
import zipfile
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from chargepark import __version__, logwindow, runtime
from chargepark.asgi import ApiError
from chargepark.bundle import slots
from chargepark.config.areas import AREAS
from chargepark.config.checks import USB_HEAD, park_client_problem
from chargepark.park import eth1
from chargepark.services.registry import SERVICES
from chargepark.supervisor import CLIENT_SERVICES
from chargepark.wbm.context import WbmContext, of
from chargepark.wbm.software import LOG as UPDATE_LOG
from chargepark.wbm.software import UPDATES
from chargepark.wbm.systemhost import SystemHost, SystemRefused

router = APIRouter(prefix="/api/wbm", tags=["system"])
Ctx = Annotated[WbmContext, Depends(of)]
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SPOOL = 8 << 20  # a log archive up to this size stays in memory
Window = tuple[datetime | None, datetime | None]  # since, until (UTC)


async def _control(ctx: WbmContext, request: dict[str, Any]) -> dict[str, Any]:
    try:
        reply = await ctx.control(request)
    except (ConnectionError, OSError, TimeoutError) as e:
        raise ApiError(504, "the supervisor does not answer: %s" % e) from None
    if not reply.get("ok"):
        raise ApiError(409, str(reply.get("error", "refused")), "name")
    return reply


ANSWER_S = 0.5  # the answer's way out (through a page route too) before the restart ends this process
_pending: set[asyncio.Task[Any]] = set()


def _after_the_answer(ctx: WbmContext, request: dict[str, Any]) -> None:
    """A control request that restarts this web server, sent once the answer is out: a background task
    would run before an in-process caller (the pages) got its answer."""

    async def send() -> None:
        await asyncio.sleep(ANSWER_S)
        await _control(ctx, request)

    task = asyncio.get_running_loop().create_task(send())
    _pending.add(task)
    task.add_done_callback(_pending.discard)


@router.get("/services", operation_id="services_status", summary="The service table (System Control/Status)")
async def services_status(ctx: Ctx) -> list[dict[str, Any]]:
    reply = await _control(ctx, {"cmd": "status"})
    services: list[dict[str, Any]] = reply["services"]
    return services


@router.post("/services/{name}/restart", operation_id="services_restart", summary="Restart one service")
async def services_restart(name: str, ctx: Ctx) -> dict[str, Any]:
    if name not in {s.name for s in SERVICES}:
        raise ApiError(404, "no service %r" % name, "name")
    if name == ctx.self_name:  # the restart ends this process: answer first
        _after_the_answer(ctx, {"cmd": "restart", "name": name})
        return {"restarted": [name], "confirmed": False}
    reply = await _control(ctx, {"cmd": "restart", "name": name})
    return {"restarted": reply["restarted"], "confirmed": True}


def _uptime_s() -> float:
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def _role(ctx: WbmContext) -> str:
    """This head's station role (server until a Module Switch; a head without a bus is a server)."""
    try:
        record = ctx.store.get("station", _station(ctx))
    except ApiError:
        return "server"
    return str(record["role"]) if record else "server"


@router.get(
    "/system", operation_id="system_info", summary="The head: version, slot, uptime, CPU, memory, disk"
)
async def system_info(ctx: Ctx) -> dict[str, Any]:
    system = ctx.store.get("system")
    return {
        "name": system["name"],
        "version": __version__,
        "active_slot": slots.active(ctx.data_dir),
        "uptime_s": round(_uptime_s(), 1),
        "calibration_law": system["calibration_law"],
        "role": _role(ctx),
        "park_password_set": bool(system["park_password"]),  # the secret itself is never answered
        "monitor": ctx.view.system,  # the System Monitor's last SYSTEM_MONITOR message ({} before the first)
    }


class ModuleSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    address: str = Field(
        min_length=7, max_length=15,
        description="this head's ETH1 address in the park: 192.168.4.2 to 192.168.4.254 (the server is .1)",
    )  # fmt: skip
    park_password: str = Field(
        min_length=1, max_length=64,
        description="the park's secret, as set on the server: this head's bridge logs in with it (system park_password)",
    )  # fmt: skip


class ParkPassword(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    park_password: str = Field(
        min_length=1, max_length=64, description="the park's secret (system park_password)"
    )


def _station(ctx: WbmContext) -> str:
    rt = runtime.of_data(ctx.data_dir)
    station = str(rt.bus.get("station", "")) if rt is not None else ""
    if not station:
        raise ApiError(409, "this head knows no station UID of its own (no backplane bus)", "station")
    return station


@router.post("/system/module-switch", operation_id="module_switch",
             summary="Module Switch: this head becomes a client (its station's role, its ETH1 address in the park), "
                     "then every service restarts, those of the server stay off and the WBM answers on USB only")  # fmt: skip
async def module_switch(body: ModuleSwitch, ctx: Ctx) -> dict[str, Any]:
    problem = park_client_problem(body.address)
    if problem:
        raise ApiError(422, problem, "address")
    station = _station(ctx)
    # chargeschema.Invalid: 422 naming the field, before anything is done
    AREAS["system"].validate({"park_password": body.park_password}, ctx.store.get("system"))
    if ctx.network is None:
        raise ApiError(409, "this head has no network backend to configure ETH1 with", "address")
    try:  # ETH1 first: refused there, the head stays a server
        link = await asyncio.to_thread(eth1.apply, ctx.network, "client", body.address)
    except eth1.Eth1Refused as exc:
        raise ApiError(409, str(exc), "address") from None
    await asyncio.to_thread(ctx.store.put, "station", {"role": "client", "address": body.address}, station)
    await asyncio.to_thread(ctx.store.put, "system", {"park_password": body.park_password})
    _after_the_answer(ctx, {"cmd": "restart", "name": "all"})
    return {
        "station": station,
        "role": "client",
        "stopped": [s.name for s in SERVICES if s.name not in CLIENT_SERVICES],
        "eth1": link,
        "wbm_address": USB_HEAD,  # where the WBM answers from now on
    }


@router.post("/system/park-password", operation_id="park_password",
             summary="The park's secret (system park_password) on the server: the clients' bridges log in with it; "
                     "it takes effect when every service restarts (the reboot)")  # fmt: skip
async def park_password(body: ParkPassword, ctx: Ctx) -> dict[str, Any]:
    await asyncio.to_thread(ctx.store.put, "system", {"park_password": body.park_password})  # Invalid: 422
    return {"stored": True}


@router.post("/system/reboot", operation_id="system_reboot",
             summary="Reboot the head: every service stopped cleanly, then started again (answered first)")  # fmt: skip
async def system_reboot(ctx: Ctx) -> dict[str, Any]:
    _after_the_answer(ctx, {"cmd": "restart", "name": "all"})  # this web server is among them
    return {"rebooting": True}


def _zip_logs(
    logs: Path, extra: tuple[Path, ...] = (), window: Window = (None, None)
) -> tempfile.SpooledTemporaryFile[bytes]:
    """Every `*.log*` of the logs directory and the `extra` files that exist, as one zip (also what OCPP
    GetDiagnostics uploads); with a `window` (since, until) a log holds its lines of that time only."""
    out: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(SPOOL)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for log in sorted(logs.glob("*.log*")) if logs.is_dir() else []:
            if window == (None, None):
                z.write(log, log.name)
            else:
                z.writestr(log.name, logwindow.within(log.read_bytes(), *window))
        for path in extra:
            if path.is_file():
                z.write(path, "%s-%s" % (path.parent.name, path.name))
    out.seek(0)
    return out


def _chunks(f: tempfile.SpooledTemporaryFile[bytes]) -> Iterator[bytes]:
    with f:
        while chunk := f.read(64 * 1024):
            yield chunk


@router.get(
    "/logs.zip",
    operation_id="logs_download",
    summary="One zip of every service's log",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
)
async def logs_download(ctx: Ctx) -> StreamingResponse:
    archive = await asyncio.to_thread(_zip_logs, ctx.logs_dir, (ctx.data_dir / UPDATES / UPDATE_LOG,))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ctx.clock.now()))
    return StreamingResponse(
        _chunks(archive),
        media_type="application/zip",
        headers={"content-disposition": 'attachment; filename="chargepark-logs-%s.zip"' % stamp},
    )


def _time(ctx: WbmContext) -> dict[str, Any]:
    now = ctx.clock.now()
    system = ctx.store.get("system")
    local = datetime.fromtimestamp(now, zoneinfo.ZoneInfo(system["timezone"]))
    return {
        "utc": datetime.fromtimestamp(now, UTC).strftime(UTC_FORMAT),
        "unix": now,
        "timezone": system["timezone"],
        "local": local.isoformat(timespec="seconds"),  # with the zone's offset
        "ntp_enabled": system["ntp_enabled"],
        "ntp_servers": [s["address"] for s in system["ntp_servers"]],
    }


class TimeSet(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    utc: str = Field(min_length=20, max_length=20, description="the new time, e.g. 2030-12-31T23:59:59Z")


class TimeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ntp_enabled: bool
    ntp_servers: list[str] = Field(max_length=3, description="host names or IPv4 addresses")
    timezone: str = Field(min_length=1, max_length=64, description="IANA name, e.g. Europe/Berlin")


def _host(ctx: WbmContext) -> SystemHost:
    if ctx.system is None:
        raise ApiError(409, "this head does not manage its system (no system host)", "system")
    return ctx.system


def _refused(e: SystemRefused) -> ApiError:
    return ApiError(409, str(e), e.field)


@router.get(
    "/time", operation_id="time_show", summary="The head's clock (UTC, and local in the time zone), NTP"
)
async def time_show(ctx: Ctx) -> dict[str, Any]:
    return _time(ctx)


@router.put("/time", operation_id="time_set", summary="Set the head's clock (only while NTP is off)")
async def time_set(body: TimeSet, ctx: Ctx) -> dict[str, Any]:
    try:
        when = datetime.strptime(body.utc, UTC_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise ApiError(422, "must be a UTC time such as 2030-12-31T23:59:59Z", "utc") from None
    if ctx.store.get("system")["ntp_enabled"]:
        raise ApiError(409, "NTP sets the clock: switch ntp_enabled off in the system area first", "utc")
    try:
        await asyncio.to_thread(ctx.clock.set, when)
    except PermissionError as e:
        raise ApiError(409, "this process may not set the clock (%s)" % e, "utc") from None
    except SystemRefused as e:
        raise _refused(e) from None
    return {**_time(ctx), "applied": ctx.system is None or ctx.system.system}  # False: a development head


@router.put("/time/settings", operation_id="time_settings",
            summary="NTP on or off, its servers, the time zone: validated, applied to the system, then saved")  # fmt: skip
async def time_settings(body: TimeSettings, ctx: Ctx) -> dict[str, Any]:
    host = _host(ctx)
    change = {"ntp_enabled": body.ntp_enabled, "ntp_servers": [{"address": a} for a in body.ntp_servers],
              "timezone": body.timezone}  # fmt: skip
    record = ctx.store.get("system")
    AREAS["system"].validate(change, record)  # refused here: nothing applied, nothing saved
    try:
        commands = await asyncio.to_thread(host.apply_ntp, body.ntp_enabled, body.ntp_servers)
    except SystemRefused as e:
        old = [s["address"] for s in record["ntp_servers"]]
        await asyncio.to_thread(_restore_ntp, host, record["ntp_enabled"], old)
        raise _refused(e) from None
    await asyncio.to_thread(ctx.store.put, "system", change)
    return {**_time(ctx), "applied": host.system, "commands": commands}


def _restore_ntp(host: SystemHost, enabled: bool, servers: list[str]) -> None:
    try:
        host.apply_ntp(enabled, servers)
    except SystemRefused:
        pass  # the refusal the caller reports says why the system does not take NTP settings


# ---- Developer Mode ---------------------------------------------------------------------------------


class UserAppPassword(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    old_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=8, max_length=128, pattern=r"^[^:\n\r]*$",
                              description="at least 8 characters; no colon or line break")  # fmt: skip


@router.get("/developer", operation_id="developer_status",
            summary="Developer Mode: the Linux user user-app, whether its password is the delivery state")  # fmt: skip
async def developer_status(ctx: Ctx) -> dict[str, Any]:
    try:
        return await asyncio.to_thread(_host(ctx).user_app_state)
    except SystemRefused as e:
        raise _refused(e) from None


@router.post("/developer/password", operation_id="developer_password",
             summary="Change the password of user-app (the current one is required)")  # fmt: skip
async def developer_password(body: UserAppPassword, ctx: Ctx) -> dict[str, Any]:
    try:
        await asyncio.to_thread(_host(ctx).change_user_app, body.old_password, body.new_password)
        return await asyncio.to_thread(_host(ctx).user_app_state)
    except SystemRefused as e:
        raise _refused(e) from None


@router.post("/developer/password/reset", operation_id="developer_reset",
             summary="Reset the password of user-app to the delivery state (user)")  # fmt: skip
async def developer_reset(ctx: Ctx) -> dict[str, Any]:
    try:
        await asyncio.to_thread(_host(ctx).reset_user_app)
        return await asyncio.to_thread(_host(ctx).user_app_state)
    except SystemRefused as e:
        raise _refused(e) from None
