"""The Event Actions editor, generated from `pointconfig.EVENT_ACTION` (the one schema of an entry): the
rows of a point's list, when each extra setting matters, the editor's operations on the list (the
manual's example tables, `chargepark.ea_examples`, appended as presets) and the inputs and outputs shown
above it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import chargedefs as cd
import pointconfig

from chargepark import ea_examples
from chargepark.web import i18n, numbers
from chargepark.web.forms import typed

FIELDS = pointconfig.EVENT_ACTION
_CONDITIONS_WITH_VALUE = ("pp_equals", "pp_under", "pp_over", "ai_over", "ai_under")
# extra setting -> (the setting that decides, the values that show it)
SHOWN_WHEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "event_input": ("event", ("di_rising", "di_falling")),
    "condition_input": ("condition", ("di_high", "di_low", "ai_over", "ai_under")),
    "condition_value": ("condition", _CONDITIONS_WITH_VALUE),
    "action_output": ("action", tuple(a for a in cd.EA_ACTIONS if a.startswith("do_"))),
    "action_value": ("action", tuple(a for a in cd.EA_ACTIONS if a.startswith("do_flash") or a == "reduce_current")),
    "switch": ("action", ("enable_charging", "external_release")),
}  # fmt: skip
MAX = cd.EA_MAX
PRESETS = ea_examples.TABLES
# The live `io` of a point (datahub.point.PointTracker.io) as the page names it.
INPUT_TEXT = {True: "High", False: "Low"}
OUTPUT_TEXT = {"low": "Low", "high": "High", "floating": "Floating", "flash_high": "Flashing high",
               "flash_low": "Flashing low", "pulse_low": "Pulsating low", "bus": "Bus controlled",
               "unknown": "Not Available"}  # fmt: skip
assert set(OUTPUT_TEXT) == set(cd.OUTPUT_MODES) | {"unknown"}


def msgids() -> set[str]:
    """The page's texts that come from tables."""
    ids = {f.doc for f in FIELDS} | {str(c) for f in FIELDS for c in f.choices or ()}
    return (
        ids | {title for title, _ in PRESETS.values()} | set(INPUT_TEXT.values()) | set(OUTPUT_TEXT.values())
    )


def io_state(live: dict[str, Any], lang: str = i18n.DEFAULT) -> dict[str, list[str]]:
    """The point's inputs and outputs as the page shows them (msgids; "Not Available" before a sample; the
    analog inputs' volts in `lang`'s notation)."""
    io = live.get("io") or {}
    inputs = io.get("inputs") or [None] * cd.DIGITAL_INPUTS
    outputs = io.get("outputs") or ["unknown"] * cd.DIGITAL_OUTPUTS
    analog = io.get("analog_mv")
    return {
        "inputs": [INPUT_TEXT.get(v, "Not Available") for v in inputs],
        "outputs": [OUTPUT_TEXT.get(v, "Not Available") for v in outputs],
        "analog": [numbers.quantity(lang, mv / 1000, "V", 2) for mv in analog or ()]
        or ["-"] * cd.ANALOG_INPUTS,
    }


def io_texts(gettext: Callable[[str], str]) -> dict[str, str]:
    """The page script's texts of a live `io`: "true"/"false" for an input, each output mode."""
    texts = {str(v).lower(): gettext(t) for v, t in INPUT_TEXT.items()}
    return texts | {mode: gettext(t) for mode, t in OUTPUT_TEXT.items()}


def rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The point's Event Actions, every setting filled (the default where the entry has none)."""
    return [{f.name: ea.get(f.name, f.default) for f in FIELDS} for ea in record.get("event_actions", [])]


def parse(form: dict[str, str]) -> list[dict[str, Any]]:
    """The editor's rows (`ea-<i>-<setting>`) in their order, typed by the entry's fields."""
    count = int(form.get("count", "0") or 0)
    return [
        {f.name: typed(f, form.get("ea-%d-%s" % (i, f.name))) for f in FIELDS} for i in range(min(count, MAX))
    ]


def apply(entries: list[dict[str, Any]], op: str) -> list[dict[str, Any]]:
    """add | delete:<i> | up:<i> | down:<i> | preset:<name> (the manual's table appended; the store refuses
    more than MAX) | save (the list unchanged)."""
    out = list(entries)
    verb, _, index = op.partition(":")
    i = int(index) if index.isdigit() else -1
    if verb == "add" and len(out) < MAX:
        out.append({f.name: f.default for f in FIELDS})
    elif verb == "preset" and index in PRESETS:
        out += [{f.name: e.get(f.name, f.default) for f in FIELDS} for e in PRESETS[index][1]]
    elif verb == "delete" and 0 <= i < len(out):
        del out[i]
    elif verb == "up" and 0 < i < len(out):
        out[i - 1], out[i] = out[i], out[i - 1]
    elif verb == "down" and 0 <= i < len(out) - 1:
        out[i], out[i + 1] = out[i + 1], out[i]
    return out
