"""The WBM dashboard: configured points only, the summary the manual lists, served over real HTTP to a guest;
`/` leads a guest to the WBM's dashboard page."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from chargepark import topics
from chargepark.wbm.app import create_app

from tests.host.wbmkit import make_ctx, served


def live(uid: str, position: int, status: str, power_w: float, configured: bool = True) -> bytes:
    return json.dumps({"uid": uid, "position": position, "status": status, "configured": configured,
                       "energy": {"real_power": {"value": power_w, "unit": "W"}}}).encode()  # fmt: skip


def test_dashboard_summary_and_page(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    view = ctx.view
    view.on_live(topics.charx("a", "live"), live("a", 2, "Charging", 7360.0))
    view.on_live(topics.charx("b", "live"), live("b", 1, "Available", 0.0))
    view.on_live(topics.charx("c", "live"), live("c", 3, "SuspendedEV", 0.0))
    view.on_live(topics.charx("d", "live"), live("d", 4, "Charging", 3000.0, configured=False))
    view.on_live(topics.charx("e", "live"), b"garbage")
    view.on_services(topics.SERVICES, b'[{"name": "jupicore", "state": "running"}]')

    with served(create_app(ctx)) as base, httpx.Client(base_url=base, timeout=30) as guest:
        park = guest.get("/api/park").json()
        root = guest.get("/")
        missing = guest.get("/nope")

    assert [p["uid"] for p in park["points"]] == ["b", "a", "c"]  # by position, unconfigured hidden
    assert (park["available"], park["occupied"], park["charging"], park["power_w"]) == (1, 1, 1, 7360.0)
    assert park["services"] == [{"name": "jupicore", "state": "running"}]
    assert root.status_code == 307 and root.headers["location"] == "/wbm/"
    assert missing.status_code == 404 and missing.json()["error"]
