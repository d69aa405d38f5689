"""The CHARX load management REST interface (`/api/v1.0/loadmanagement/load_circuits`, the system area's
`loadmgmt_port`, 1603 on a real head; no login, as CHARX). Each circuit is its configuration in the CHARX REST
names (`config.restnames`) plus `id` and our `status`; a write goes through the store (422 with the field and
the reason, park-wide rules included), and the service picks it up from the area's version topic.
"""

from __future__ import annotations

import time
from typing import Any

import chargeschema
from fastapi import FastAPI, Request

from chargepark import __version__, asgi
from chargepark.config import restnames
from chargepark.config.store import ConfigStore
from chargepark.datahub import bodies
from chargepark.loadmgmt.manager import Manager

PREFIX = "/api/v1.0/loadmanagement"


def build(manager: Manager, store: ConfigStore) -> FastAPI:
    app = asgi.make_app("chargepark load management", __version__, __doc__ or "")

    def view(cid: str) -> dict[str, Any]:
        return dict(
            restnames.to_rest("loadcircuit", store.get("loadcircuit", cid)),
            id=cid,
            status=manager.status(cid, time.time()),
        )

    def known(cid: str) -> None:
        if cid not in store.keys("loadcircuit"):
            raise asgi.ApiError(404, "no load circuit %r" % cid, "id")

    @app.get(PREFIX + "/load_circuits")
    async def load_circuits() -> list[dict[str, Any]]:
        return [view(cid) for cid in store.keys("loadcircuit")]

    @app.get(PREFIX + "/load_circuits/{cid}")
    async def load_circuit(cid: str) -> dict[str, Any]:
        known(cid)
        return view(cid)

    @app.put(PREFIX + "/load_circuits/{cid}")
    async def put_load_circuit(cid: str, request: Request) -> dict[str, Any]:
        body = await bodies.json_object(request)
        partial = restnames.from_rest(
            "loadcircuit", {k: v for k, v in body.items() if k not in ("id", "status")}
        )
        if "points" in partial and cid in store.keys("loadcircuit"):
            # CHARX lists the points as UIDs: a point that stays keeps its surplus and phase settings
            kept = {e["uid"]: e for e in store.get("loadcircuit", cid)["points"]}
            partial["points"] = [dict(kept.get(e.get("uid"), {}), **e) if isinstance(e, dict) else e
                                 for e in partial["points"]]  # fmt: skip
        try:
            store.put("loadcircuit", partial, key=cid)
        except chargeschema.Invalid as e:
            raise bodies.refuse(restnames.errors_to_rest("loadcircuit", e.errors)) from None
        return view(cid)

    @app.get(PREFIX + "/charging_controllers/{uid}/limit")
    async def limit(uid: str) -> dict[str, Any]:
        """Why this point is limited: the binding limit of its last round."""
        return manager.why(uid)

    return app
