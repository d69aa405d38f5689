"""Session history from the data hub's sessions.db (read only): filter by point and time, CSV export; the
live plots' stored history from its plot.db (datahub/plotstore.py)."""

from __future__ import annotations

import csv
import io
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from chargepark.asgi import ApiError
from chargepark.datahub import plotstore
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm", tags=["sessions"])
Ctx = Annotated[WbmContext, Depends(of)]
MAX_ROWS = 10_000
COLUMNS = ("id", "uid", "started", "ended", "energy_wh", "id_tag", "reason", "connected_s", "charge_s",
           "start_meter_wh", "released", "release_meter_wh", "stop_meter_wh")  # fmt: skip
TIMES = ("started", "ended", "released")


def sessions(
    db: Path, uid: str | None, since: float | None, until: float | None, limit: int
) -> list[dict[str, Any]]:
    """Sessions of a point (or all) that overlap [since, until], newest first."""
    if not db.exists():
        return []  # the data hub has not stored a session yet
    where: list[str] = []
    args: list[str | float] = []
    if uid is not None:
        where.append("uid = ?")
        args.append(uid)
    if since is not None:
        where.append("(ended IS NULL OR ended >= ?)")
        args.append(since)
    if until is not None:
        where.append("started <= ?")
        args.append(until)
    sql = "SELECT %s FROM sessions%s ORDER BY started DESC, id DESC LIMIT ?" % (
        ", ".join(COLUMNS),
        " WHERE " + " AND ".join(where) if where else "",
    )
    con = sqlite3.connect("file:%s?mode=ro" % db.resolve(), uri=True)
    try:
        rows = con.execute(sql, (*args, limit)).fetchall()
    finally:
        con.close()
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


def _utc(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([_utc(r[c]) if c in TIMES else r[c] for c in COLUMNS])
    return out.getvalue()


class Filter:
    """The query of both routes: point, time range (UNIX seconds, UTC), row limit."""

    def __init__(
        self,
        uid: Annotated[
            str | None, Query(min_length=1, max_length=64, description="device UID of a point")
        ] = None,
        since: Annotated[
            float | None, Query(ge=0, le=1e11, description="sessions ending at or after [s]")
        ] = None,
        until: Annotated[
            float | None, Query(ge=0, le=1e11, description="sessions starting at or before [s]")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 1000,
    ) -> None:
        if since is not None and until is not None and until < since:
            raise ApiError(422, "must not be before since", "until")
        self.uid, self.since, self.until, self.limit = uid, since, until, limit

    def rows(self, ctx: WbmContext) -> list[dict[str, Any]]:
        return sessions(ctx.sessions_db, self.uid, self.since, self.until, self.limit)


@router.get("/sessions", operation_id="sessions_list", summary="Charging sessions, newest first")
async def sessions_list(ctx: Ctx, f: Annotated[Filter, Depends()]) -> list[dict[str, Any]]:
    return f.rows(ctx)


@router.get(
    "/sessions.csv",
    operation_id="sessions_csv",
    summary="The same sessions as CSV (times in UTC)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def sessions_csv(ctx: Ctx, f: Annotated[Filter, Depends()]) -> Response:
    return Response(
        as_csv(f.rows(ctx)),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="sessions.csv"'},
    )


Window = Annotated[Literal["15m", "1h", "24h"], Query(description="the plot window")]


@router.get(
    "/plot/park", operation_id="plot_park", summary="Stored plot of the park: power and L1..L3 summed"
)
async def plot_park(ctx: Ctx, window: Window = "15m") -> dict[str, Any]:
    return plotstore.series(ctx.data_dir / plotstore.FILE, plotstore.PARK, window, time.time())


@router.get(
    "/plot/points/{uid}", operation_id="plot_point", summary="Stored plot of one point: power and L1..L3"
)
async def plot_point(uid: str, ctx: Ctx, window: Window = "15m") -> dict[str, Any]:
    if not uid:
        raise ApiError(422, "a point's device UID is required", "uid")
    return plotstore.series(ctx.data_dir / plotstore.FILE, uid, window, time.time())
