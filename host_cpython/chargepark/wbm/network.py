"""Network (manual "WBM - Network"): the status read back from the system beside the configuration, apply
(validated whole, applied by the network backend, and refused whole: a part that fails puts the previous
configuration back and the store keeps it), the routing table's runtime changes, the OpenVPN test, switch
and import, the modem's restart and test ping, the WLAN scan, and the head's address for the point pages.

Where the files go and whether system commands run is the context's `network` (`network.host`)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import chargeschema
from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, ConfigDict, Field

from chargepark.asgi import ApiError
from chargepark.config.areas import AREAS
from chargepark.network import layout, modem, openvpn, routes, status, wlan
from chargepark.network.host import NetworkHost
from chargepark.network.runner import CommandFailed
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/network", tags=["network"])
Ctx = Annotated[WbmContext, Depends(of)]
Record = dict[str, Any]
NETWORK = AREAS["network"]
# The routing table's runtime changes (not persistent: the `routes` list is).
ROUTE_ACTIONS = (
    ("add", "Add a route now, until the next restart"),
    ("remove", "Remove a route now (a system one too); listed for restore until the next restart"),
    ("restore", "Put a removed route back"),
)


def _host(ctx: WbmContext) -> NetworkHost:
    if ctx.network is None:
        raise ApiError(409, "this head does not manage a network (no network root)")
    return ctx.network


async def _system(fn: Any, *args: Any) -> Any:
    """A backend call off the event loop; a failing system command is a 409 with its reason."""
    try:
        return await asyncio.to_thread(fn, *args)
    except (CommandFailed, modem.ModemError, OSError) as e:
        raise ApiError(409, str(e)) from None


@router.get("/status", operation_id="network_status",
            summary="The network as the system has it now, and the last apply")  # fmt: skip
async def network_status(ctx: Ctx) -> Record:
    host = _host(ctx)
    applied = await _system(host.status, ctx.store.get("network"))
    return {"applied": applied, "last_apply": host.last, "system": host.system, "root": str(host.root)}


@router.get("/head", operation_id="network_head", summary="The head's ETH0 address and MAC (point status)")
async def network_head(ctx: Ctx) -> Record:
    host = _host(ctx)
    eth = await _system(status.interface, host.reader(), layout.ETH0)
    return {"ip": eth["ipv4"], "mac": eth["mac"]}


@router.post(
    "/apply",
    operation_id="network_apply",
    summary="Validate, apply and save the network area (merged over the stored record); all or nothing",
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
async def network_apply(data: Annotated[Record, Body()], ctx: Ctx) -> Record:
    old: Record = ctx.store.get("network")
    new = NETWORK.validate(data, old)  # chargeschema.Invalid: 422 naming each field, nothing applied
    return await _apply_and_store(ctx, new, old)


async def _apply_and_store(ctx: WbmContext, new: Record, old: Record) -> Record:
    """Applies `new`; only a record that applied is stored (a failed part: `old` applied again, 409)."""
    host = _host(ctx)
    result: Record = await asyncio.to_thread(host.apply, new, old)
    if not result["ok"]:
        why = "; ".join("%s: %s" % kv for kv in result["errors"].items())
        back = "the previous configuration is applied again" if result["restored"] else (
            "putting the previous configuration back failed too: %s"
            % "; ".join("%s: %s" % kv for kv in result["restore_errors"].items()))  # fmt: skip
        raise ApiError(409, "not applied (%s); %s" % (why, back), next(iter(result["errors"])))
    await asyncio.to_thread(ctx.store.put, "network", new)
    return result


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    network: str
    gateway: str = ""
    interface: str = layout.ETH0
    metric: int = 0
    until_restart: bool = Field(True, description="remove: keep it listed so that it can be restored")


def _route(ctx: WbmContext, body: Route) -> Record:
    """The route checked by the network area's own route rules (one schema)."""
    entry = body.model_dump(exclude={"until_restart"})
    try:
        clean = NETWORK.validate({"routes": [entry]}, ctx.store.get("network"))
    except chargeschema.Invalid as e:
        raise chargeschema.Invalid({k.replace("routes[0].", ""): v for k, v in e.errors.items()}) from None
    route: Record = clean["routes"][0]
    return route


async def _route_now(action: str, body: Route, ctx: WbmContext) -> Record:
    host = _host(ctx)
    route, runner = _route(ctx, body), host.runner()
    if action == "add":
        await _system(routes.add, runner, route)
    elif action == "remove":
        await _system(lambda: routes.remove(runner, host.root, route, until_restart=body.until_restart))
    else:
        await _system(routes.restore, runner, host.root, route)
    return {"action": action, "route": route, "commands": [" ".join(a) for a in runner.record]}


def _route_op(action: str, summary: str) -> None:
    async def change(body: Route, ctx: Ctx) -> Record:
        return await _route_now(action, body, ctx)

    router.add_api_route("/routes/" + action, change, methods=["POST"], operation_id="network_route_" + action,
                         summary=summary)  # fmt: skip


for _action, _summary in ROUTE_ACTIONS:
    _route_op(_action, _summary)


@router.post("/vpn/test", operation_id="network_vpn_test",
             summary="TEST VPN CONNECTION: the client on the configuration, no address or route change")  # fmt: skip
async def network_vpn_test(ctx: Ctx) -> Record:
    host = _host(ctx)
    if not host.system:
        raise ApiError(409, "this head does not own its network: no OpenVPN client runs here")
    text = openvpn.source(ctx.store.get("network"), openvpn.read_imported(host.root))
    if not text.strip():
        raise ApiError(409, "no OpenVPN configuration (paste or import one)", "openvpn_config")
    connected, log = await _system(openvpn.test_connection, host.runner(), text)
    return {"connected": connected, "log": log}


def _vpn_op(action: str) -> None:
    async def switch(ctx: Ctx) -> Record:
        runner = _host(ctx).runner()
        try:
            await _system(openvpn.switch, runner, ctx.store.get("network"), action)
        except openvpn.NotOnRequest as e:
            raise ApiError(409, str(e), "openvpn_mode") from None
        return {"action": action, "commands": [" ".join(a) for a in runner.record]}

    router.add_api_route("/vpn/" + action, switch, methods=["POST"], operation_id="network_vpn_" + action,
                         summary="%s the OpenVPN client (activation mode On Request)"
                         % ("Start" if action == "up" else "Stop"))  # fmt: skip


for _vpn in openvpn.SWITCH:
    _vpn_op(_vpn)


class VpnFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=255)
    text: str = Field(min_length=1, max_length=65536)


@router.post("/vpn-import", operation_id="network_vpn_import",
             summary="IMPORT CONFIGURATION: kept outside the store, never readable through the WBM")  # fmt: skip
async def network_vpn_import(body: VpnFile, ctx: Ctx) -> Record:
    host = _host(ctx)
    if ctx.store.get("network")["openvpn_config"].strip():
        raise ApiError(409, "delete the pasted configuration first (it takes precedence)", "openvpn_config")
    await _system(openvpn.import_file, host.root, body.text)
    await asyncio.to_thread(ctx.store.put, "network", {"openvpn_imported": body.name})
    return {"imported": body.name}


@router.post("/vpn-delete", operation_id="network_vpn_delete",
             summary="DELETE CONFIGURATION: the pasted text and the imported file; the client stopped and off")  # fmt: skip
async def network_vpn_delete(ctx: Ctx) -> Record:
    old: Record = ctx.store.get("network")
    new = NETWORK.validate({"openvpn_mode": "off", "openvpn_config": "", "openvpn_imported": ""}, old)
    result = await _apply_and_store(ctx, new, old)  # the client stopped and disabled, its file removed
    await _system(openvpn.delete_imported, _host(ctx).root)
    return result


class Ping(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    address: str = Field(min_length=1, max_length=253)


@router.post("/modem/restart", operation_id="network_modem_restart", summary="RESTART MODEM")
async def network_modem_restart(ctx: Ctx) -> Record:
    runner = _host(ctx).runner()
    await _system(modem.restart, runner)
    return {"restarted": True, "commands": [" ".join(a) for a in runner.record]}


@router.post("/modem/test", operation_id="network_modem_test", summary="TEST MODEM: ping through the modem")
async def network_modem_test(body: Ping, ctx: Ctx) -> Record:
    answered, log = await _system(modem.test_ping, _host(ctx).reader(), body.address)
    return {"answered": answered, "log": log}


@router.get("/wlan/scan", operation_id="network_wlan_scan", summary="REFRESH: the WLAN networks in reach")
async def network_wlan_scan(ctx: Ctx) -> list[Record]:
    runner = _host(ctx).reader()

    def scan() -> list[Record]:
        runner.run(["wpa_cli", "-i", layout.WLAN, "scan"])
        return wlan.parse_scan(runner.run(["wpa_cli", "-i", layout.WLAN, "scan_results"]).stdout)

    found: list[Record] = await _system(scan)
    return found
