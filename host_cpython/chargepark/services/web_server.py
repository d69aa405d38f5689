"""Web Server service: the WBM. Today a live dashboard of the park; the WBM issue grows it."""

from __future__ import annotations

import asyncio
import json
import logging
from importlib.resources import files
from typing import Any

from chargepark import httpd, topics
from chargepark.httpd import Request, Response
from chargepark.livepoints import LivePoints
from chargepark.runtime import Runtime
from chargepark.services.base import connect, run_service

log = logging.getLogger("chargepark.web")
OCCUPIED = {"Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing"}


class ParkView(LivePoints):
    """What the dashboard shows, kept from the data hub's and the supervisor's retained topics."""

    def __init__(self) -> None:
        super().__init__()
        self.services: list[Any] = []
        self.system: dict[str, Any] = {}

    def on_services(self, topic: str, raw: bytes) -> None:
        try:
            self.services = list(json.loads(raw))
        except (ValueError, TypeError):
            log.warning("bad services message")

    def on_system(self, topic: str, raw: bytes) -> None:
        try:
            self.system = dict(json.loads(raw))
        except (ValueError, TypeError):
            log.warning("bad system message")

    def summary(self) -> dict[str, Any]:
        # Manual, Dashboard: only configured charging points are shown.
        pts = [p for p in self.by_position() if p.get("configured", True)]
        status = [p.get("status") for p in pts]
        power = sum(float(p.get("energy", {}).get("real_power", {}).get("value", 0)) for p in pts)
        return {
            "available": status.count("Available"),
            "occupied": sum(1 for s in status if s in OCCUPIED),
            "charging": status.count("Charging"),
            "power_w": round(power, 1),
            "points": pts,
            "services": self.services,
            "system": self.system,
        }


def router(view: ParkView) -> httpd.Route:
    page = files("chargepark.web").joinpath("dashboard.html").read_bytes()

    async def route(req: Request) -> Response:
        if req.method != "GET":
            return Response.error(405, "method not allowed")
        if req.path in ("/", "/index.html"):
            return Response(200, page, "text/html; charset=utf-8")
        if req.path == "/api/park":
            return Response.json(view.summary())
        return Response.error(404, "no page %s" % req.path)

    return route


async def serve(runtime: Runtime) -> None:
    link = await connect(runtime, "charx-website")
    view = ParkView()
    link.subscribe(topics.charx("+", "live"), view.on_live)
    link.subscribe(topics.SERVICES, view.on_services)
    link.subscribe(topics.SYSTEM_MONITOR, view.on_system)
    server = await httpd.serve(router(view), runtime.listen_host, runtime.web_port)
    log.info("WBM on http://%s:%d/", runtime.listen_host, runtime.web_port)
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        link.close()


def main() -> int:
    return run_service("web-server", serve)
