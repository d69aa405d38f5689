"""WBM API of the "Load Management" page: each load circuit's configuration (written through the
configuration routes, `/api/wbm/config/loadcircuit/{id}`) beside its status as the load management service
last published it (`topics.LM_CIRCUIT`: active, limiting, monitored points, current, planned current, per
phase, and why each point is limited), the charging points that may be selected, and the simulated day's plot
(`out/loadmgmt/day.svg`, written by `bench/bench_loadmgmt.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from chargepark.asgi import ApiError
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/loadmanagement", tags=["load management"])
Ctx = Annotated[WbmContext, Depends(of)]
PLOT = Path(__file__).resolve().parents[3] / "out" / "loadmgmt" / "day.svg"


@router.get("", operation_id="loadmgmt_status", summary="Load circuits: configuration, status, points")
async def load_management(ctx: Ctx) -> dict[str, Any]:
    store = ctx.store
    names = {uid: (store.get("chargepoint", uid) or {}).get("name", uid) for uid in store.keys("chargepoint")}
    circuits = []
    for cid in store.keys("loadcircuit"):
        record = store.get("loadcircuit", cid)
        circuits.append({"id": cid, "config": record, "status": ctx.loadmgmt.status.get(cid)})
    member = {e["uid"]: c["id"] for c in circuits for e in c["config"]["points"]}
    points = [{"uid": uid, "name": names[uid], "circuit": member.get(uid)} for uid in sorted(names)]
    return {"circuits": circuits, "points": points, "plot": PLOT.is_file()}


@router.get("/plot", operation_id="loadmgmt_plot", summary="The simulated day's plot (SVG)")
async def plot() -> Response:
    if not PLOT.is_file():
        raise ApiError(404, "no plot yet: bench/bench_loadmgmt.py writes it", "plot")
    return Response(PLOT.read_bytes(), media_type="image/svg+xml", headers={"cache-control": "no-store"})
