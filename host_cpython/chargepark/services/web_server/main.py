"""Web Server service: the WBM API and the dashboard page (chargepark.wbm) on the system area's web port."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from chargepark import asgi, control, topics
from chargepark.auth.accounts import Accounts
from chargepark.config.store import ConfigStore
from chargepark.loadmgmt.watch import Circuits
from chargepark.network import host as network_host
from chargepark.network import links, usb0
from chargepark.park import role
from chargepark.release.gate import GatedOps, mode_in
from chargepark.release.whitelist import Seen
from chargepark.runtime import Runtime
from chargepark.services.base import connect, run_service
from chargepark.services.web_server import pages
from chargepark.services.web_server.spec import SPEC
from chargepark.wbm import bridge, certificate, systemhost
from chargepark.wbm import modbus as wbm_modbus
from chargepark.wbm.app import create_app
from chargepark.wbm.context import WbmContext
from chargepark.wbm.live import ParkView
from chargepark.web import tls

log = logging.getLogger("chargepark.web")
AUTH_FILE = "auth.db"


async def serve(runtime: Runtime) -> None:
    link = await connect(runtime, SPEC)
    view = ParkView()
    await link.subscribe(topics.charx("+", "live"), view.on_live)
    await link.subscribe(topics.SERVICES, view.on_services)
    await link.subscribe(topics.SYSTEM_MONITOR, view.on_system)
    circuits = Circuits()
    await link.subscribe(topics.subscription(topics.LM_CIRCUIT), circuits.on_status)
    cards = Seen()
    await link.subscribe(topics.RFID_RECENT, cards.on_recent)
    store = ConfigStore.open(runtime.config_path)
    ops = GatedOps(link, "dashboard", mode_in(store))  # the WBM's release is the dashboard's
    await ops.start()
    data = Path(runtime.data_dir)

    async def ask_supervisor(request: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(control.request, data, request)

    accounts = Accounts(data / AUTH_FILE)
    host = systemhost.for_data(data)
    network = network_host.for_data(data)
    ctx = WbmContext(
        store=store,
        accounts=accounts,
        view=view,
        commands=ops,
        control=ask_supervisor,
        sessions_db=data / "sessions.db",
        logs_dir=data / "logs",
        clock=host,
        data_dir=data,
        self_name=SPEC.name,
        rfid=cards,
        loadmgmt=circuits,
        publish=link.publish,
        network=network,
        system=host,
    )
    await link.subscribe(topics.subscription(topics.MODBUS_CLIENT_METER), partial(wbm_modbus.take_meter, ctx))
    for topic in bridge.KEYS:
        await link.subscribe(topic, partial(bridge.take, ctx))
    app = create_app(ctx)
    pages.install(app)
    await asyncio.to_thread(_usb0, network)
    listen = role.wbm_host(runtime, role.station_role(runtime))
    served = await asgi.serve(app, listen, runtime.web_port)
    log.info("WBM on http://%s:%d/", listen, served.port)
    secure = await _serve_https(app, runtime, listen, store.get("system")["https_port"])
    try:
        while True:
            await asyncio.sleep(60.0)
            accounts.purge()
    finally:
        if secure is not None:
            await secure.stop()
        await served.stop()
        await link.close()
        accounts.close()
        store.close()


def _usb0(network: network_host.NetworkHost) -> None:
    """The USB-C service port's address, before the WBM binds (a client's WBM listens there only). Its
    failure costs that port only: the WBM stays reachable on the others."""
    try:
        usb0.apply(network)
    except links.LinkRefused as e:
        log.warning("%s", e)


async def _serve_https(app: FastAPI, runtime: Runtime, listen: str, port: int) -> asgi.Served | None:
    """HTTPS beside HTTP on the configured port (0: none), with the kept certificate (made at first start
    or uploaded). A port in use costs HTTPS only: the WBM stays reachable over HTTP."""
    if port == 0:
        return None
    cert = await asyncio.to_thread(tls.ensure, Path(runtime.data_dir) / tls.DIR)
    try:
        secure = await asgi.serve(app, listen, port, tls=cert)
    except OSError as e:
        log.warning("no HTTPS on port %d: %s", port, e)
        return None
    log.info("WBM on https://%s:%d/", listen, secure.port)
    setattr(app.state, certificate.SERVED, await asyncio.to_thread(tls.fingerprint, Path(cert[0])))
    return secure


def main() -> int:
    return run_service(SPEC, serve)
