"""The WBM dashboard: configured points only, the summary the manual lists, served over real HTTP."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

from chargepark import httpd, topics
from chargepark.runtime import free_port
from chargepark.services.web_server import ParkView, router


def live(uid: str, position: int, status: str, power_w: float, configured: bool = True) -> bytes:
    return json.dumps({"uid": uid, "position": position, "status": status, "configured": configured,
                       "energy": {"real_power": {"value": power_w, "unit": "W"}}}).encode()  # fmt: skip


def test_dashboard_summary_and_page() -> None:
    view = ParkView()
    view.on_live(topics.charx("a", "live"), live("a", 2, "Charging", 7360.0))
    view.on_live(topics.charx("b", "live"), live("b", 1, "Available", 0.0))
    view.on_live(topics.charx("c", "live"), live("c", 3, "SuspendedEV", 0.0))
    view.on_live(topics.charx("d", "live"), live("d", 4, "Charging", 3000.0, configured=False))
    view.on_live(topics.charx("e", "live"), b"garbage")
    view.on_services(topics.SERVICES, b'[{"name": "jupicore", "state": "running"}]')

    async def fetch() -> tuple[dict[str, object], bytes, int]:
        port = free_port()
        server = await httpd.serve(router(view), "127.0.0.1", port)

        def get(path: str) -> bytes:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
                return bytes(r.read())

        try:
            park = json.loads(await asyncio.to_thread(get, "/api/park"))
            page = await asyncio.to_thread(get, "/")
            try:
                await asyncio.to_thread(get, "/nope")
                code = 200
            except urllib.error.HTTPError as e:
                code = e.code
        finally:
            server.close()
        return park, page, code

    park, page, missing = asyncio.run(fetch())
    assert [p["uid"] for p in park["points"]] == ["b", "a", "c"]  # by position, unconfigured hidden
    assert (park["available"], park["occupied"], park["charging"], park["power_w"]) == (1, 1, 1, 7360.0)
    assert park["services"] == [{"name": "jupicore", "state": "running"}]
    assert b"/api/park" in page and b"<table" in page
    assert missing == 404
