"""Request bodies of JupiCore's REST: parsed and validated by the store's schemas (`chargeschema`), the
same validation every other writer gets; their OpenAPI JSON Schemas are generated from the same `Field`s."""

from __future__ import annotations

from typing import Any

import chargeschema
import orjson
from fastapi import Request

from chargepark.asgi import WHOLE_BODY, ApiError, field_name


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 400 when it is not JSON, 422 when it is not an object."""
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise ApiError(400, "malformed JSON: %s" % e) from None
    if not isinstance(body, dict):
        raise ApiError(422, "must be a JSON object", WHOLE_BODY)
    return body


def refuse(errors: dict[str, str]) -> ApiError:
    """A 422 naming the first refused field (sorted paths: a stable answer) and its reason."""
    path = sorted(errors)[0]
    return ApiError(422, errors[path], field_name(path))


def validated(fields: tuple[Any, ...], data: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    try:
        clean: dict[str, Any] = chargeschema.validate(fields, data, (), base)
    except chargeschema.Invalid as e:
        raise refuse(e.errors) from None
    return clean


def field_schema(f: Any) -> dict[str, Any]:
    kind = f.kind
    out: dict[str, Any]
    if kind == chargeschema.BOOL:
        out = {"type": "boolean"}
    elif kind == chargeschema.INT:
        out = {"type": "integer"}
        if f.lo is not None:
            out["minimum"] = f.lo
        if f.hi is not None:
            out["maximum"] = f.hi
    elif kind == chargeschema.STR:
        out = {"type": "string"}
        if f.lo is not None:
            out["minLength"] = f.lo
        if f.hi is not None:
            out["maxLength"] = f.hi
    elif kind == chargeschema.ENUM:
        out = {"enum": list(f.choices)}
    elif kind == chargeschema.LIST:
        out = {"type": "array", "items": object_schema(f.item), "maxItems": f.hi}
    elif kind == chargeschema.INTS:
        item: dict[str, Any] = {"type": "integer", "minimum": f.lo, "maximum": f.hi}
        out = {"type": "array", "items": item}
    else:
        out = {}
    if f.doc:
        out["description"] = f.doc + (" [%s]" % f.unit if f.unit else "")
    return out


def object_schema(
    fields: tuple[Any, ...], names: dict[str, str] | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON Schema of a partial record: every field optional, no others; `names` renames (CHARX)."""
    names = names or {}
    props = {names.get(f.name, f.name): field_schema(f) for f in fields}
    props.update(extra or {})
    return {"type": "object", "properties": props, "additionalProperties": False}


def body_doc(schema: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` of a route that reads its body itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
