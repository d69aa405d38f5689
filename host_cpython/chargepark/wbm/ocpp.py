"""WBM API of the page "OCPP": the OCPP service's connection, its connectors' last statuses and the last 50
messages (its journal, `chargepark.ocpp.journal`), beside the read-only configuration keys it answers. The
settings and the server variables are the `ocpp` configuration area (`/api/wbm/config/ocpp`, its writer
in the role matrix); "RESTART OCPP SERVICE" is the services route. The CA certificate of a `wss://` backend
is uploaded and deleted here (`chargepark.ocpp.cacert`)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from chargepark.asgi import ApiError
from chargepark.ocpp import cacert, journal, keys
from chargepark.ocpp.station import connectors_of
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/ocpp", tags=["ocpp"])
Ctx = Annotated[WbmContext, Depends(of)]
PEM_BODY = {
    "requestBody": {"content": {"application/x-pem-file": {"schema": {"type": "string"}}}, "required": True}
}


@router.get("", operation_id="ocpp_status",
            summary="OCPP: connection, the OCPP points and their statuses, the last 50 messages, read-only keys")  # fmt: skip
async def ocpp_status(ctx: Ctx) -> dict[str, Any]:
    seen = journal.read(ctx.data_dir / journal.FILE)
    points = ctx.store.get("chargepoint")
    by_connector = {c["connector"]: c for c in seen["connectors"]}
    connectors = [
        {"connector": c, "uid": uid, "name": points[uid].get("name", uid), "sent": by_connector.get(c)}
        for c, uid in sorted(connectors_of(points).items())
    ]
    n = len(connectors)
    read_only = [{"key": r.key, "value": r.value(n)} for r in keys.READ_ONLY]
    return {
        "link": seen["link"],
        "connectors": connectors,
        "messages": seen["messages"],
        "read_only": read_only,
        "certificate": await asyncio.to_thread(cacert.info, ctx.data_dir),
    }


@router.put("/certificate", operation_id="ocpp_certificate_upload", openapi_extra=PEM_BODY,
            summary="Upload Certificate: the CA certificate(s) of a wss:// backend, PEM; checked before kept")  # fmt: skip
async def certificate_upload(request: Request, ctx: Ctx) -> dict[str, Any]:
    raw = await request.body()  # the server refuses a body above 64 kB (413) before it gets here
    try:
        return await asyncio.to_thread(cacert.save, ctx.data_dir, raw)
    except cacert.Refused as e:
        raise ApiError(422, str(e), "certificate") from None


@router.delete("/certificate", operation_id="ocpp_certificate_delete",
               summary="Delete Certificate: the wss:// backend is verified against the system's CAs again")  # fmt: skip
async def certificate_delete(ctx: Ctx) -> dict[str, Any]:
    if not await asyncio.to_thread(cacert.delete, ctx.data_dir):
        raise ApiError(404, "no certificate is kept", "certificate")
    return {"deleted": True}
