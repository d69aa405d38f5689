"""The way in (`/` leads to the WBM's dashboard, which a guest sees without login), the park tree (park -> stations -> points, discovered vs configured), live state per
point and for the park, and live updates as server-sent events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from chargepark import eventwait
from chargepark.asgi import ApiError, JSONBody
from chargepark.auth.guard import Caller
from chargepark.park.model import park_view
from chargepark.wbm.context import WbmContext, of
from chargepark.wbm.live import Listener

router = APIRouter(tags=["park"])
Ctx = Annotated[WbmContext, Depends(of)]
DASHBOARD = "/wbm/"  # the WBM pages' dashboard (services/web_server/pages_points.py)
KEEPALIVE_S = 15.0  # an SSE comment this often keeps proxies from closing an idle stream


@router.get("/", operation_id="dashboard_page", response_class=RedirectResponse, status_code=307,
            summary="The way in: the WBM's dashboard (a guest sees it without login)")  # fmt: skip
async def dashboard_page() -> RedirectResponse:
    return RedirectResponse(DASHBOARD, 307)


@router.get(
    "/api/park", operation_id="dashboard_summary", summary="Dashboard: configured points, counts, services"
)
async def dashboard_summary(ctx: Ctx) -> dict[str, Any]:
    summary = ctx.view.summary()
    records = ctx.store.get("chargepoint")  # the dashboard shows each point's location (manual, Dashboard)
    summary["points"] = [
        {
            **p,
            "location": records.get(p.get("uid"), {}).get("location", ""),
            "release_mode": records.get(p.get("uid"), {}).get("release_mode", ""),  # its release buttons
        }
        for p in summary["points"]
    ]
    return summary


@router.get(
    "/api/wbm/park", operation_id="park_tree", summary="Park -> stations -> points, discovered and configured"
)
async def park_tree(ctx: Ctx) -> dict[str, Any]:
    park = park_view(ctx.store, ctx.view.online())
    return {"name": park.name, "stations": [asdict(st) for st in park.stations]}


@router.get("/api/wbm/live", operation_id="live_park", summary="Live state of the park: every point, counts")
async def live_park(ctx: Ctx) -> dict[str, Any]:
    return ctx.view.summary(configured_only=False)


@router.get("/api/wbm/live/{uid}", operation_id="live_point", summary="Live state of one point",
            response_model=dict[str, Any])  # fmt: skip
async def live_point(uid: str, ctx: Ctx) -> JSONBody:
    point = ctx.view.points.get(uid)
    if point is None:
        raise ApiError(404, "no live state of a charging point %s" % uid, "uid")
    return JSONBody(point)  # the WBM's hot path: encoded at once, not through FastAPI's serializer


async def _stream(ctx: WbmContext, caller: Caller, uid: str | None) -> AsyncIterator[bytes]:
    listener = Listener(uid)
    ctx.view.listeners.add(listener)
    try:
        for known, point in list(ctx.view.points.items()):  # the current state first
            listener.push(known, point)
        while True:
            try:
                await eventwait.within(listener.wake, KEEPALIVE_S)
            except TimeoutError:
                if ctx.accounts.session(caller.token) is None:
                    return  # logged out or expired: the stream ends with the session
                yield b": keepalive\n\n"
                continue
            for changed, point in listener.take().items():
                yield b"event: live\nid: %s\ndata: %s\n\n" % (changed.encode(), json.dumps(point).encode())
    finally:
        ctx.view.listeners.discard(listener)


@router.get(
    "/api/wbm/events",
    operation_id="live_events",
    summary="Server-sent events: `live` with a point's state whenever it changes (of one point with `uid`)",
    response_class=StreamingResponse,
)
async def live_events(
    request: Request,
    ctx: Ctx,
    uid: Annotated[str | None, Query(min_length=1, max_length=64, description="only this point")] = None,
) -> StreamingResponse:
    caller: Caller = request.state.caller
    return StreamingResponse(
        _stream(ctx, caller, uid), media_type="text/event-stream", headers={"cache-control": "no-store"}
    )
