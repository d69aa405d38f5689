"""Import/Export per sub-register of the manual (`wbm.groups`): the export is the configuration export
document with the group's areas (or the group's fields of an area); the import takes such a document
whole or refuses it whole, naming the field: the group's fields are merged over the current records, then
the store validates and applies everything in one transaction.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from chargepark.asgi import ApiError, JSONBody
from chargepark.config import migrations
from chargepark.config.areas import AREAS
from chargepark.wbm.context import WbmContext, of
from chargepark.wbm.groups import GROUPS, group_op

router = APIRouter(prefix="/api/wbm/backup", tags=["system"])
Ctx = Annotated[WbmContext, Depends(of)]
Doc = Annotated[dict[str, Any], Body(description="an export of this group")]
Replace = Annotated[bool, Query(description="keyed areas: delete the records the document does not hold")]


def export(ctx: WbmContext, group: str) -> dict[str, Any]:
    areas: dict[str, Any] = {}
    for area, fields in GROUPS[group][1]:
        content = ctx.store.export(area)["areas"][area]
        areas[area] = content if fields is None else {f: content[f] for f in fields}
    return {"format": migrations.FORMAT, "version": migrations.VERSION, "areas": areas}


def _upgraded(area: str, content: Any, version: int) -> Any:
    if not isinstance(content, dict) or version == migrations.VERSION:
        return content
    if AREAS[area].keyed:
        return {k: migrations.upgrade(area, r, version) for k, r in content.items()}
    return migrations.upgrade(area, content, version)


def _whole(ctx: WbmContext, group: str, doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the store imports it: only this group's areas and fields, in this version's form,
    a part of an area merged over its current record."""
    areas, version = doc.get("areas"), doc.get("version")
    if not isinstance(areas, dict) or not isinstance(version, int) or not 1 <= version <= migrations.VERSION:
        return doc  # the store names what is wrong with it
    parts = dict(GROUPS[group][1])
    foreign = sorted(set(areas) - set(parts))
    if foreign:
        raise ApiError(422, "not part of %s" % GROUPS[group][0], "areas." + str(foreign[0]))
    out = {a: _upgraded(a, content, version) for a, content in areas.items()}
    for area, fields in parts.items():
        if fields is None or area not in out:
            continue
        part = out[area]
        if not isinstance(part, dict):
            raise ApiError(422, "must be an object of field -> value", "areas." + area)
        extra = sorted(set(part) - set(fields))
        if extra:
            raise ApiError(422, "not part of %s" % GROUPS[group][0], "areas.%s.%s" % (area, extra[0]))
        out[area] = {**ctx.store.get(area), **part}
    return {**doc, "version": migrations.VERSION, "areas": out}


def _routes(group: str) -> None:
    title = GROUPS[group][0]

    async def export_(ctx: Ctx) -> JSONBody:
        return JSONBody(export(ctx, group),
                        headers={"content-disposition": 'attachment; filename="%s.json"' % group})  # fmt: skip

    async def import_(doc: Doc, ctx: Ctx, replace: Replace = False) -> dict[str, Any]:
        whole = _whole(ctx, group, doc)
        await asyncio.to_thread(ctx.store.import_, whole, replace)
        return {"imported": group, "areas": sorted(whole.get("areas", {}))}

    router.add_api_route("/%s/export" % group, export_, methods=["GET"], operation_id=group_op(group, "export"),
                         summary="Export as JSON: %s" % title)  # fmt: skip
    router.add_api_route("/%s/import" % group, import_, methods=["POST"], operation_id=group_op(group, "import"),
                         summary="Import an export of it, whole or refused whole: %s" % title)  # fmt: skip


for _group in GROUPS:
    _routes(_group)
