"""CHARX JupiCore REST names of configuration fields (charx-interfaces.md 2.2), one table per area.

Existing clients read and write `/charging-points/{id}/config`, `/rfid-whitelist/{uid}` and the load
management's `load_circuits` with these names. `to_rest` renames our fields (fields without a CHARX name
keep ours); `from_rest` accepts either name and returns a partial record for `ConfigStore.put`.
Values pass unchanged: the CHARX value spellings are not documented (charx-interfaces.md, Known gaps).
"""

from __future__ import annotations

from typing import Any

import schema

Record = dict[str, Any]

# area -> {our field: CHARX REST name}
NAMES: dict[str, dict[str, str]] = {
    "chargepoint": {
        "name": "charging_point_name",
        "location": "location",
        "release_mode": "release_charging_mode",
        "min_current_a": "minimum_charge_current",
        "max_current_a": "maximum_charge_current",
        "fallback_current_a": "fallback_charge_current",
        "rfid_reader": "rfid_reader_device_uid",
        "rfid_reader_type": "rfid_reader_type",
        "ocpp_connector_id": "ocpp16_connector_id",
        "phase_rotation": "connector_phase_rotation",
        "meter_type": "energy_meter_type",
        "hlc": "evse_hlc_policy",
    },
    "whitelist": {
        "allow_charging": "active",
        "name": "label",
        "expiry_utc": "expiry_date_utc",
        "type": "type",
    },
    "loadcircuit": {
        "name": "load_circuit_name",
        "fuse_a": "fuse",
        "meter_type": "measuring_device_type",
        "meter_modbus_id": "modbus_id",
        "meter_ip": "ip_address",
        "strategy": "charging_rule",
        "points": "charging_points",
    },
}


def to_rest(area: str, record: Record) -> Record:
    names = NAMES.get(area, {})
    out = {names.get(k, k): v for k, v in record.items()}
    if area == "loadcircuit":  # CHARX lists the member controller UIDs as plain strings
        out["charging_points"] = [entry["uid"] for entry in record["points"]]
    return out


def from_rest(area: str, body: Any) -> Record:
    """A partial record in our field names; unknown names are left for the schema to refuse."""
    if not isinstance(body, dict):
        raise schema.Invalid({".": "must be an object"})
    ours = {rest: field for field, rest in NAMES.get(area, {}).items()}
    out = {ours.get(str(k), str(k)): v for k, v in body.items()}
    if area == "loadcircuit" and isinstance(out.get("points"), list):
        out["points"] = [{"uid": uid} if isinstance(uid, str) else uid for uid in out["points"]]
    return out


def errors_to_rest(area: str, errors: dict[str, str]) -> dict[str, str]:
    """`schema.Invalid.errors` of a `put` with the field part of each path in CHARX names."""
    names = NAMES.get(area, {})
    out = {}
    for path, why in errors.items():
        head, dot, rest = path.partition(".")
        field, bracket, index = head.partition("[")
        out[names.get(field, field) + bracket + index + dot + rest] = why
    return out
