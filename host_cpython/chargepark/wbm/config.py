"""Configuration per area through the store (validated in full, one transaction, pushed to the services
and the modules by the store's version topics): read, validate without saving, write, export, import
whole or refused whole, delete = factory default; for charging points also copy from another point and one
file to several points with the manual's optional "-1", "-2" name suffix.

The per-area routes are built from `auth.matrix.AREA_WRITERS` (the areas the WBM edits) and
`config.areas.AREAS` (their schemas); operation ids come from `auth.matrix.config_op`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import chargeschema
from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from chargepark.asgi import ApiError, JSONBody
from chargepark.auth.matrix import AREA_WRITERS, config_op
from chargepark.config import migrations
from chargepark.config.areas import AREAS, Area
from chargepark.config.store import Change
from chargepark.wbm.context import WbmContext, of
from chargepark.wbm.jsonschema import record_schema

router = APIRouter(prefix="/api/wbm/config", tags=["configuration"])
Ctx = Annotated[WbmContext, Depends(of)]
Doc = Annotated[dict[str, Any], Body(description="a configuration export document")]
Record = Annotated[dict[str, Any], Body(description="fields of the area; missing ones keep their value")]
Replace = Annotated[bool, Query(description="keyed areas: delete the records the document does not hold")]
# What a copied charging point keeps of its own: names and the OCPP connector id are unique in the park.
POINT_IDENTITY = ("name", "location", "ocpp_connector_id")
DOC_SCHEMA = {
    "type": "object",
    "required": ["format", "version", "areas"],
    "properties": {
        "format": {"const": migrations.FORMAT},
        "version": {"type": "integer", "minimum": 1, "maximum": migrations.VERSION},
        "areas": {"type": "object"},
    },
}


def _body_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    """Store calls block (synced commit, the version announce): off the event loop."""
    return await asyncio.to_thread(fn, *args)


def _attachment(doc: dict[str, Any], name: str) -> JSONBody:
    return JSONBody(doc, headers={"content-disposition": 'attachment; filename="%s.json"' % name})


def _only_area(doc: dict[str, Any], name: str) -> None:
    areas = doc.get("areas")
    if isinstance(areas, dict) and set(areas) - {name}:
        raise ApiError(422, "this route imports the %s area only (found %s)" % (name, ", ".join(sorted(areas))),
                       "areas")  # fmt: skip


def _validate_errors(ctx: WbmContext, a: Area, data: dict[str, Any], key: str | None) -> dict[str, str]:
    """What a write of `data` would refuse: the record's fields and checks, then the park rules."""
    try:
        record = a.validate(data, ctx.store.get(a.name, key))
    except chargeschema.Invalid as e:
        return dict(e.errors)
    content = {key: record} if a.keyed else record
    doc = {"format": migrations.FORMAT, "version": migrations.VERSION, "areas": {a.name: content}}
    return ctx.store.validate_document(doc)


def _add(method: str, path: str, a: Area, verb: str, fn: Callable[..., Awaitable[Any]], summary: str,
         body: dict[str, Any] | None = None) -> None:  # fmt: skip
    router.add_api_route(
        path, fn, methods=[method], operation_id=config_op(a.name, verb), summary=summary % a.title,
        openapi_extra=_body_schema(body) if body is not None else None,
    )  # fmt: skip


def _singleton_routes(a: Area) -> None:
    name, p = a.name, "/" + a.name
    schema = record_schema(a.fields)

    async def read(ctx: Ctx) -> dict[str, Any]:
        record: dict[str, Any] = ctx.store.get(name)
        return record

    async def write(data: Record, ctx: Ctx) -> dict[str, Any]:
        saved: dict[str, Any] = await _run(ctx.store.put, name, data)
        return saved

    async def validate(data: Record, ctx: Ctx) -> dict[str, Any]:
        errors = await _run(_validate_errors, ctx, a, data, None)
        return {"valid": not errors, "errors": errors}

    async def delete(ctx: Ctx) -> dict[str, Any]:
        await _run(ctx.store.delete, name)
        record: dict[str, Any] = ctx.store.get(name)
        return record

    async def export(ctx: Ctx) -> JSONBody:
        return _attachment(ctx.store.export(name), name)

    async def import_(doc: Doc, ctx: Ctx) -> dict[str, Any]:
        _only_area(doc, name)
        await _run(ctx.store.import_, doc)
        record: dict[str, Any] = ctx.store.get(name)
        return record

    _add("GET", p, a, "read", read, "Read: %s")
    _add("PUT", p, a, "write", write, "Write (merged over the current record): %s", schema)
    _add("POST", p + "/validate", a, "validate", validate, "Validate without saving: %s", schema)
    _add("DELETE", p, a, "delete", delete, "Back to factory defaults: %s")
    _add("GET", p + "/export", a, "export", export, "Export as JSON: %s")
    _add_import(p, a, import_)


def _keyed_routes(a: Area) -> None:
    name, p = a.name, "/" + a.name
    schema = record_schema(a.fields)

    async def listing(ctx: Ctx) -> dict[str, Any]:
        records: dict[str, Any] = ctx.store.get(name)
        return records

    async def read(key: str, ctx: Ctx) -> dict[str, Any]:
        record = ctx.store.get(name, _key(a, key))
        if record is None:
            raise ApiError(404, "%s has no record %s" % (name, key), "key")
        return dict(record)

    async def write(key: str, data: Record, ctx: Ctx) -> dict[str, Any]:
        saved: dict[str, Any] = await _run(ctx.store.put, name, data, _key(a, key))
        return saved

    async def validate(key: str, data: Record, ctx: Ctx) -> dict[str, Any]:
        errors = await _run(_validate_errors, ctx, a, data, _key(a, key))
        return {"valid": not errors, "errors": errors}

    async def delete(key: str, ctx: Ctx) -> dict[str, Any]:
        if ctx.store.get(name, _key(a, key)) is None:
            raise ApiError(404, "%s has no record %s" % (name, key), "key")
        await _run(ctx.store.delete, name, key)
        return {"deleted": key}

    async def export(ctx: Ctx, key: Annotated[str | None, Query(max_length=64)] = None) -> JSONBody:
        try:
            return _attachment(ctx.store.export(name, key), name if key is None else "%s-%s" % (name, key))
        except KeyError:
            raise ApiError(404, "%s has no record %s" % (name, key), "key") from None

    async def import_(doc: Doc, ctx: Ctx, replace: Replace = False) -> dict[str, Any]:
        _only_area(doc, name)
        await _run(ctx.store.import_, doc, replace)
        records: dict[str, Any] = ctx.store.get(name)
        return records

    r = p + "/records/{key}"
    _add("GET", p, a, "list", listing, "All records: %s")
    _add("GET", r, a, "read", read, "Read one record: %s")
    _add(
        "PUT",
        r,
        a,
        "write",
        write,
        "Write one record (merged; a new one starts from the defaults): %s",
        schema,
    )
    _add("POST", r + "/validate", a, "validate", validate, "Validate one record without saving: %s", schema)
    _add("DELETE", r, a, "delete", delete, "Delete one record (factory default): %s")
    _add("GET", p + "/export", a, "export", export, "Export as JSON (all records, or ?key=): %s")
    _add_import(p, a, import_)


def _add_import(p: str, a: Area, import_: Any) -> None:
    _add(
        "POST",
        p + "/import",
        a,
        "import",
        import_,
        "Import an export, whole or refused whole: %s",
        DOC_SCHEMA,
    )


def _key(a: Area, key: str) -> str:
    problem = a.key_problem(key)
    if problem:
        raise ApiError(422, problem, "key")
    return key


@router.get("", operation_id="config_export_all", summary="Export the whole configuration as JSON")
async def export_all(ctx: Ctx) -> JSONBody:
    return _attachment(ctx.store.export(), "configuration")


@router.post("/validate", operation_id="config_validate_all", summary="Validate an export without importing it",
             openapi_extra=_body_schema(DOC_SCHEMA))  # fmt: skip
async def validate_all(doc: Doc, ctx: Ctx, replace: Replace = False) -> dict[str, Any]:
    errors = await _run(ctx.store.validate_document, doc, replace)
    return {"valid": not errors, "errors": errors}


@router.post("/import", operation_id="config_import_all", summary="Import an export, whole or refused whole",
             openapi_extra=_body_schema(DOC_SCHEMA))  # fmt: skip
async def import_all(doc: Doc, ctx: Ctx, replace: Replace = False) -> dict[str, Any]:
    await _run(ctx.store.import_, doc, replace)
    return {"imported": sorted(doc.get("areas", {}))}


for _area in AREA_WRITERS:
    (_keyed_routes if AREAS[_area].keyed else _singleton_routes)(AREAS[_area])

# ---- charging points: copy from another point, one file to several points ---------------------------

POINT = AREAS["chargepoint"]


class Identity(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = Field(None, min_length=1, max_length=32, description="default: the target's own")
    location: str | None = Field(None, max_length=64, description="default: the target's own")


@router.post(
    "/chargepoint/records/{uid}/copy-from/{source}",
    operation_id="config_chargepoint_copy",
    summary="Copy another point's configuration; the target keeps its name, location and OCPP connector id",
)
async def copy_point(uid: str, source: str, ctx: Ctx, body: Identity | None = None) -> dict[str, Any]:
    _key(POINT, uid)
    original = ctx.store.get("chargepoint", source)
    if original is None:
        raise ApiError(404, "charging point %s has no configuration to copy" % source, "source")
    own = ctx.store.get("chargepoint", uid) or {}
    record = dict(original)
    for f in POINT_IDENTITY:
        record[f] = own.get(f, POINT.defaults()[f])
    given = body.model_dump(exclude_none=True) if body else {}
    if not own and "name" not in given:
        raise ApiError(422, "required: the unconfigured target needs a name of its own", "name")
    record.update(given)
    await _run(ctx.store.apply, [("chargepoint", uid, record)])
    saved: dict[str, Any] = ctx.store.get("chargepoint", uid)
    return saved


class ImportToPoints(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    file: dict[str, Any] = Field(description="an export of one charging point configuration")
    points: list[str] = Field(min_length=1, max_length=144, description="device UIDs, in suffix order")
    suffix: bool = Field(False, description='add "-1", "-2", ... to the name, in the order of points')


def _one_point_record(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("format") != migrations.FORMAT:
        raise ApiError(
            422, "not a chargepark configuration export (format %r)" % migrations.FORMAT, "file.format"
        )
    version = doc.get("version")
    if not isinstance(version, int) or not 1 <= version <= migrations.VERSION:
        raise ApiError(422, "unknown export version %r" % (version,), "file.version")
    records = (doc.get("areas") or {}).get("chargepoint") if isinstance(doc.get("areas"), dict) else None
    if not isinstance(records, dict) or len(records) != 1:
        raise ApiError(422, "must hold exactly one charging point configuration", "file.areas.chargepoint")
    record = migrations.upgrade("chargepoint", next(iter(records.values())), version)
    if not isinstance(record, dict):
        raise ApiError(422, "must be an object", "file.areas.chargepoint")
    return record


@router.post(
    "/chargepoint/import-to-points",
    operation_id="config_chargepoint_import_many",
    summary='One configuration file to several points (optional "-1", "-2" name suffix); all or none',
)
async def import_to_points(body: ImportToPoints, ctx: Ctx) -> dict[str, Any]:
    record = _one_point_record(body.file)
    if len(set(body.points)) != len(body.points):
        raise ApiError(422, "a point is listed twice", "points")
    changes: list[Change] = []
    for n, uid in enumerate(body.points, start=1):
        _key(POINT, uid)
        one = dict(record)
        if body.suffix:
            one["name"] = "%s-%d" % (record.get("name", POINT.defaults()["name"]), n)
        changes.append(("chargepoint", uid, one))
    await _run(ctx.store.apply, changes)
    return {uid: ctx.store.get("chargepoint", uid) for uid in body.points}
