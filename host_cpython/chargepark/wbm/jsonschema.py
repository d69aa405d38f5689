"""JSON Schema of a configuration area, rendered from its `chargeschema` fields (the one schema) for the
OpenAPI document: clients and test generators see the real bounds; the store still validates."""

from __future__ import annotations

from typing import Any

import chargeschema as cs


def field_schema(f: cs.Field) -> dict[str, Any]:
    out: dict[str, Any]
    if f.kind == cs.BOOL:
        out = {"type": "boolean"}
    elif f.kind == cs.INT:
        out = {"type": "integer"}
        if f.lo is not None:
            out["minimum"] = f.lo
        if f.hi is not None:
            out["maximum"] = f.hi
    elif f.kind == cs.STR:
        out = {"type": "string"}
        if f.lo is not None:
            out["minLength"] = f.lo
        if f.hi is not None:
            out["maxLength"] = f.hi
    elif f.kind == cs.ENUM:
        out = {"enum": list(f.choices or ())}
    elif f.kind == cs.INTS:
        item: dict[str, Any] = {"type": "integer"}
        if f.lo is not None:
            item["minimum"] = f.lo
        if f.hi is not None:
            item["maximum"] = f.hi
        out = {"type": "array", "items": item}
    elif f.kind == cs.LIST:
        out = {"type": "array", "items": record_schema(f.item or ())}
        if f.hi is not None:
            out["maxItems"] = f.hi
    else:  # ANY: whoever receives it validates it
        out = {}
    if f.doc:
        out["description"] = f.doc + (" [%s]" % f.unit if f.unit else "")
    return out


def record_schema(fields: tuple[cs.Field, ...]) -> dict[str, Any]:
    """An object of these fields; every field optional (missing ones keep their value or default)."""
    return {
        "type": "object",
        "properties": {f.name: field_schema(f) for f in fields},
        "additionalProperties": False,
    }
