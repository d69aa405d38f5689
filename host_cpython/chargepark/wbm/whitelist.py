"""The WBM's whitelist (manual "WBM - Whitelist"): entries by their tag (written as the readers render it),
CSV export and import ("Add From Import", "Replace with Import": a malformed file changes nothing and
names its line), the recently scanned cards and teach-in/teach-out at a reader. The entries are the
store's `whitelist` area (`config_whitelist_*` read and edit it too); User may edit, as the manual says."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

import chargeschema
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from chargepark import topics
from chargepark.asgi import WHOLE_BODY, ApiError
from chargepark.release import csvio, whitelist
from chargepark.wbm.context import WbmContext, of

router = APIRouter(prefix="/api/wbm/whitelist", tags=["whitelist"])
Ctx = Annotated[WbmContext, Depends(of)]
CSV_BODY = {"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}}
MAX_CSV = 256 * 1024  # 500 entries of the longest fields are ~70 kB


class Teach(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    reader: str = Field(min_length=1, max_length=64, description="the point whose reader reads the card")
    mode: Literal["in", "out", "off"]
    seconds: int = Field(60, ge=1, le=3600, description="how long the teach waits for a card")


def _tag(tag: str, kind: str) -> str:
    tag = whitelist.normal(tag, kind)
    problem = whitelist.tag_problem(tag, kind)
    if problem:
        raise ApiError(422, problem, "tag")
    return tag


@router.get(
    "/entries/{key}", operation_id="whitelist_entry_read", summary="One entry, found whatever the case"
)
async def read_entry(key: str, ctx: Ctx) -> dict[str, Any]:
    found = whitelist.Index(ctx.store.get("whitelist")).find(whitelist.normal(key))
    if found is None:
        raise ApiError(404, "%s is not on the whitelist" % key, "key")
    return found


@router.put("/entries/{key}", operation_id="whitelist_entry_write",
            summary="Add or change an entry: the tag written as readers render it (RFID: hex digits)",
            openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}})  # fmt: skip
async def write_entry(key: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    tag = key
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise ApiError(400, "malformed JSON", WHOLE_BODY) from None
    if not isinstance(data, dict):
        raise ApiError(422, "the body must be a JSON object", WHOLE_BODY)
    current = ctx.store.get("whitelist", tag)
    kind = str(data.get("type", (current or {}).get("type", "rfid")))
    key = _tag(tag, kind)
    if key != tag and current is not None:
        raise ApiError(422, "the entry is stored as %s: edit it as that" % tag, "tag")
    saved: dict[str, Any] = await asyncio.to_thread(ctx.store.put, "whitelist", data, key)
    return {"tag": key, **saved}


@router.get("/csv", operation_id="whitelist_csv_export", summary="Export the whitelist as CSV",
            response_class=Response)  # fmt: skip
async def export_csv(ctx: Ctx) -> Response:
    return Response(csvio.export(ctx.store.get("whitelist")), media_type="text/csv",
                    headers={"content-disposition": 'attachment; filename="whitelist.csv"'})  # fmt: skip


@router.post("/csv", operation_id="whitelist_csv_import", openapi_extra=CSV_BODY,
             summary="Import a CSV export: added to the whitelist, or replacing it (?replace=true)")  # fmt: skip
async def import_csv(
    request: Request,
    ctx: Ctx,
    replace: Annotated[bool, Query(description="Replace with Import; else Add From Import")] = False,
) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_CSV:
        raise ApiError(413, "a whitelist file is at most %d bytes" % MAX_CSV)
    try:
        entries = csvio.parse(raw.decode("utf-8"))
        changes = csvio.changes(ctx.store.get("whitelist"), entries, replace)
    except UnicodeDecodeError:
        raise ApiError(422, "the file is not UTF-8 text", "file") from None
    except csvio.Malformed as e:
        raise ApiError(422, str(e), "line %d" % e.line if e.line else "file") from None
    try:
        await asyncio.to_thread(ctx.store.apply, changes)
    except chargeschema.Invalid as e:
        raise ApiError(422, "; ".join("%s: %s" % kv for kv in sorted(e.errors.items())), "file") from None
    return {"imported": len(entries), "entries": len(ctx.store.get("whitelist")), "replaced": replace}


@router.get(
    "/recent", operation_id="whitelist_recent", summary="Recently scanned RFIDs/EVCC IDs, teach state"
)
async def recent(ctx: Ctx) -> dict[str, Any]:
    return ctx.rfid.state


@router.post("/teach", operation_id="whitelist_teach",
             summary="Teach the next card at a reader in (add it) or out (remove it); mode off cancels")  # fmt: skip
async def teach(body: Teach, ctx: Ctx) -> dict[str, Any]:
    if body.mode != "off" and ctx.store.get("chargepoint", body.reader) is None:
        raise ApiError(404, "no configured charging point %s with a reader" % body.reader, "reader")
    ctx.publish(topics.RFID_TEACH, body.model_dump_json())
    return {"armed": body.mode != "off", **body.model_dump()}
