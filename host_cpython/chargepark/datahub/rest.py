"""JupiCore REST read endpoints (charx-interfaces.md 2.2), prefix /api/v1.0, port 5555 by default."""

from __future__ import annotations

from chargepark.datahub.hub import DataHub
from chargepark.httpd import Request, Response, Route

PREFIX = "/api/v1.0"


def router(hub: DataHub) -> Route:
    async def route(req: Request) -> Response:
        if req.method != "GET":
            return Response.error(405, "read-only for now: %s" % req.method)
        if not req.path.startswith(PREFIX + "/"):
            return Response.error(404, "no route %s" % req.path)
        parts = [p for p in req.path[len(PREFIX) :].split("/") if p]
        if parts == ["charging-controllers"]:
            return Response.json(hub.controllers())
        if len(parts) == 3 and parts[0] == "charging-controllers" and parts[2] == "data":
            if parts[1] not in hub.points:
                return Response.error(404, "no charging controller %s" % parts[1])
            names = [n for v in req.query.get("param_list", []) for n in v.split(",") if n]
            try:
                return Response.json(hub.data(parts[1], names))
            except ValueError as e:
                return Response.error(400, str(e))
        if parts == ["sessions"]:
            uid = req.query.get("uid", [None])[0]
            try:
                limit = int(req.query.get("limit", ["100"])[0])
            except ValueError:
                return Response.error(400, "limit must be an integer")
            return Response.json(hub.store.recent(uid, max(1, min(limit, 1000))))
        if parts == ["jupicore", "stats"]:
            return Response.json(hub.stats())
        return Response.error(404, "no route %s" % req.path)

    return route
