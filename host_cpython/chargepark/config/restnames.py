"""CHARX JupiCore REST names of configuration fields (charx-interfaces.md 2.2), from each `Field.rest`.

Existing clients read and write `/charging-points/{id}/config`, `/rfid-whitelist/{uid}` and the load
management's `load_circuits` with these names. `to_rest` renames our fields (fields without a CHARX name
keep ours); `from_rest` accepts either name and returns a partial record for `ConfigStore.put`.
Values pass unchanged: the CHARX value spellings are not documented (charx-interfaces.md, Known gaps).
"""

from __future__ import annotations

from typing import Any

import chargeschema

from chargepark.config.areas import AREAS

Record = dict[str, Any]


def names(area: str) -> dict[str, str]:
    """{our field: CHARX REST name} of an area's fields that have one."""
    return {f.name: f.rest for f in AREAS[area].fields if f.rest} if area in AREAS else {}


def to_rest(area: str, record: Record) -> Record:
    rest = names(area)
    out = {rest.get(k, k): v for k, v in record.items()}
    if area == "loadcircuit":  # CHARX lists the member controller UIDs as plain strings
        out["charging_points"] = [entry["uid"] for entry in record["points"]]
    return out


def from_rest(area: str, body: Any) -> Record:
    """A partial record in our field names; unknown names are left for the schema to refuse."""
    if not isinstance(body, dict):
        raise chargeschema.Invalid({".": "must be an object"})
    ours = {rest: field for field, rest in names(area).items()}
    out = {ours.get(str(k), str(k)): v for k, v in body.items()}
    if area == "loadcircuit" and isinstance(out.get("points"), list):
        out["points"] = [{"uid": uid} if isinstance(uid, str) else uid for uid in out["points"]]
    return out


def errors_to_rest(area: str, errors: dict[str, str]) -> dict[str, str]:
    """`chargeschema.Invalid.errors` of a `put` with the field part of each path in CHARX names."""
    rest = names(area)
    out = {}
    for path, why in errors.items():
        head, dot, tail = path.partition(".")
        field, bracket, index = head.partition("[")
        out[rest.get(field, field) + bracket + index + dot + tail] = why
    return out
