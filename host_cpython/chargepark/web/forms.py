"""The charging point's configuration form, generated from `pointconfig.FIELDS` (the one schema): which
group of the manual's "Create configuration" page each field belongs to and when it is visible. Kinds,
bounds, choices, units and defaults come from the fields themselves; the store validates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import chargeschema as cs
import pointconfig

from chargepark import meterdoc

# The manual's groups, in its order; each names its fields (a test checks every field is in one place).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("General", ("name", "location")),
    ("Charging Connection", ("connection_type", "standard", "socket_type", "locking_mode", "plug_rejection",
                             "status_d")),
    ("Energy | Charge Currents", ("min_current_a", "max_current_a", "fallback_current_a", "fallback_time_s")),
    ("Energy | Energy measuring device", ("meter_type", "phase_rotation", "screen_abbreviation",
                                          "cp_selection")),
    ("Monitoring | Protection", ("contactor_monitoring", "contactor_input", "rcm_enabled")),
    ("Monitoring | Charge Current Monitoring", ("overcurrent", "out_of_balance")),
    ("Monitoring | Derating", ("temp_sensor", "derating_start_temp_c", "derating_stop_temp_c",
                               "derating_start_current_a", "derating_stop_current_a", "ptc_trip_ohm")),
    ("Allow Charging", ("release_mode", "rfid_reader", "rfid_reader_type", "rfid_timeout_s",
                        "ocpp_connector_id")),
    ("ISO 15118", ("hlc", "evse_id", "free_service", "payment")),
)  # fmt: skip
# Fields with a page of their own (the Event Actions editor), not on this form.
ELSEWHERE = ("outputs", "event_actions")
REQUIRED = ("name", "location")  # the manual: name and location must be entered

_METERED = tuple(m for m in pointconfig.METER_TYPES if m != "none")
_RFID = ("whitelist", "ocpp")  # the release modes that read an RFID card
# field -> (the field that decides, the values that show it): the manual's visibility rules.
SHOWN_WHEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "socket_type": ("connection_type", ("socket",)),  # socket-outlet-only fields
    "locking_mode": ("connection_type", ("socket",)),
    "plug_rejection": ("connection_type", ("socket",)),
    "phase_rotation": ("meter_type", _METERED),  # meter-only fields
    "screen_abbreviation": ("meter_type", _METERED),
    "cp_selection": ("meter_type", _METERED),
    "overcurrent": ("meter_type", _METERED),
    "out_of_balance": ("meter_type", _METERED),
    "contactor_input": ("contactor_monitoring", ("no", "nc")),
    "derating_start_temp_c": ("temp_sensor", ("pt1000",)),  # Pt1000 vs PTC fields
    "derating_stop_temp_c": ("temp_sensor", ("pt1000",)),
    "derating_start_current_a": ("temp_sensor", ("pt1000",)),
    "derating_stop_current_a": ("temp_sensor", ("pt1000",)),
    "ptc_trip_ohm": ("temp_sensor", ("ptc",)),
    "rfid_reader": ("release_mode", _RFID),
    "rfid_reader_type": ("release_mode", _RFID),
    "rfid_timeout_s": ("release_mode", _RFID),
    "ocpp_connector_id": ("release_mode", ("ocpp",)),  # only with release "By OCPP"
    "evse_id": ("hlc", ("optional", "required")),
    "free_service": ("hlc", ("optional", "required")),
    "payment": ("hlc", ("optional", "required")),
}
BY_NAME = {f.name: f for f in pointconfig.FIELDS}
# Choices a page names by more than their value: a meter type by its products (the manual's names, from
# the one table of meter provenance); a proper name, not translated.
PRODUCTS = {"meter_type": {t: "%s: %s" % (t, p.products) for t, p in meterdoc.PROVENANCE.items()}}


def product(field: str, choice: str) -> str | None:
    return PRODUCTS.get(field, {}).get(choice)


@dataclass(frozen=True)
class FormField:
    field: cs.Field
    value: Any
    shown: bool
    rule: tuple[str, tuple[Any, ...]] | None
    required: bool


Groups = tuple[tuple[str, tuple[str, ...]], ...]
Rules = dict[str, tuple[str, tuple[Any, ...]]]


def layout(record: dict[str, Any], groups: Groups = GROUPS, by_name: dict[str, cs.Field] = BY_NAME,
           shown_when: Rules = SHOWN_WHEN, required: tuple[str, ...] = REQUIRED,
           ) -> list[tuple[str, list[FormField]]]:  # fmt: skip
    """The groups with their fields, values (the record's, else the default) and visibility (this
    form's tables by default; the network pages pass theirs)."""

    def value(name: str) -> Any:
        return record.get(name, by_name[name].default)

    def shown(name: str) -> bool:
        rule = shown_when.get(name)
        return rule is None or value(rule[0]) in rule[1]

    return [
        (title, [FormField(by_name[n], value(n), shown(n), shown_when.get(n), n in required) for n in names])
        for title, names in groups
    ]


def typed(f: cs.Field, raw: str | None) -> Any:
    """One form string -> the field's kind. A string that is no number stays a string: the store refuses
    it with its own message ("must be an integer")."""
    if f.kind == cs.BOOL:
        return raw in ("on", "true", "1")
    if raw is None:
        return f.default
    if f.kind == cs.INT:
        raw = raw.strip()
        return int(raw) if raw.lstrip("-").isdigit() else raw
    return raw


def parse(form: dict[str, str]) -> dict[str, Any]:
    """The form's fields, typed (a checkbox that is absent is off; another absent field is not sent)."""
    return {
        n: typed(BY_NAME[n], form.get(n))
        for _, names in GROUPS
        for n in names
        if n in form or BY_NAME[n].kind == cs.BOOL
    }
