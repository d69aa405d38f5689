"""The WBM's event stream of one point (a status page): only that point's changes reach it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from chargepark import topics
from chargepark.wbm.app import create_app

from tests.host.wbmkit import change_factory_password, make_ctx, served


def test_a_stream_with_uid_carries_that_point_only(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    with served(create_app(ctx)) as base, httpx.Client(base_url=base, timeout=30) as c:
        change_factory_password(c, "user")
        for uid, status in (("CP1", "Available"), ("CP2", "Charging")):
            point = {"uid": uid, "position": 1, "status": status, "bus_state": "online"}
            base.call_soon(ctx.view.on_live, topics.charx(uid, "live"), json.dumps(point).encode())
        with c.stream("GET", "/api/wbm/events", params={"uid": "CP2"}) as events:
            lines = events.iter_lines()
            assert [next(lines), next(lines)] == ["event: live", "id: CP2"]  # its current state, not CP1's
            next(lines), next(lines)
            for uid, status in (("CP1", "Faulted"), ("CP2", "Finishing")):
                point = {"uid": uid, "position": 1, "status": status, "bus_state": "online"}
                base.call_soon(ctx.view.on_live, topics.charx(uid, "live"), json.dumps(point).encode())
            assert [next(lines), next(lines)] == ["event: live", "id: CP2"]
            assert json.loads(next(lines).removeprefix("data: "))["status"] == "Finishing"
        assert c.get("/api/wbm/events", params={"uid": ""}).status_code == 422
