"""The Modbus page's settings form, generated from the modbus area's schema (`config.schemas.MODBUS`): its
fields in the schema's order, labelled by their docs; lists as rows (`netform.parse_fields`)."""

from __future__ import annotations

from typing import Any

from chargepark.config.schemas import MODBUS, MODBUS_AUTO
from chargepark.web import forms, netform

BY_NAME = {f.name: f for f in MODBUS}
NAMES = tuple(BY_NAME)
TITLE = "Modbus Server"


def label(path: str) -> str:
    """A field's or list item's (`start_addresses[].start`) label: its doc."""
    name, _, item = path.partition("[].")
    f = BY_NAME[name]
    return str(next(i.doc for i in f.item if i.name == item) if item else f.doc)


def layout(record: dict[str, Any], uids: list[str]) -> list[forms.FormField]:
    """The form's fields; the start addresses list every point of the park (the manual's overview), an
    unlisted one as automatic (-1)."""
    listed = [e["uid"] for e in record["start_addresses"]]
    rows = record["start_addresses"] + [{"uid": u, "start": MODBUS_AUTO} for u in uids if u not in listed]
    return forms.layout(dict(record, start_addresses=rows), ((TITLE, NAMES),), BY_NAME, {}, ())[0][1]


def parse(form: dict[str, str]) -> dict[str, Any]:
    return netform.parse_fields(form, NAMES, BY_NAME)


def msgids() -> set[str]:
    ids = {TITLE}
    for f in MODBUS:
        ids.add(label(f.name))
        ids.update(label("%s[].%s" % (f.name, i.name)) for i in f.item or ())
    return ids
