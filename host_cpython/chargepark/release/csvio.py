"""The whitelist as a CSV file (manual: export to the download area; import as "Add From Import" or
"Replace with Import").

One header line, then one entry per line; the columns are the CHARX REST names of the whitelist fields
(`uid` for the tag). A file is checked whole before anything changes: the first wrong line is named
(`Malformed`) and the whitelist stays as it was.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import chargeschema

from chargepark.config import restnames
from chargepark.config.areas import AREAS
from chargepark.config.schemas import WHITELIST_MAX
from chargepark.release import whitelist

Record = dict[str, Any]
AREA = AREAS["whitelist"]
REST = restnames.names("whitelist")
COLUMNS = ("uid", *(REST[f.name] for f in AREA.fields))
BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class Malformed(ValueError):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__("line %d: %s" % (line, reason) if line else reason)
        self.line = line
        self.reason = reason


def export(entries: dict[str, Record]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for tag, rec in sorted(entries.items()):
        w.writerow([tag, *(_cell(rec[f.name]) for f in AREA.fields)])
    return out.getvalue()


def _cell(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def parse(text: str) -> dict[str, Record]:
    """{tag: clean record} of a CSV export; `Malformed` naming the first wrong line."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip() for h in next(rows)]
    except StopIteration:
        raise Malformed(1, "empty file: expected the header %s" % ",".join(COLUMNS)) from None
    except csv.Error as e:
        raise Malformed(1, str(e)) from None
    if sorted(header) != sorted(COLUMNS):
        raise Malformed(1, "header must name the columns %s (got %s)" % (",".join(COLUMNS), ",".join(header)))
    entries: dict[str, Record] = {}
    try:
        for row in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in row):
                continue  # a blank line (an editor's last one)
            tag, record = _entry(line, dict(zip(header, row, strict=False)), len(row) == len(header))
            if tag in entries:
                raise Malformed(line, "%s is in the file twice" % tag)
            entries[tag] = record
            if len(entries) > WHITELIST_MAX:
                raise Malformed(line, whitelist.full_reason(len(entries)))
    except csv.Error as e:
        raise Malformed(rows.line_num, str(e)) from None
    return entries


def _entry(line: int, cells: dict[str, str], whole: bool) -> tuple[str, Record]:
    if not whole:
        raise Malformed(line, "expected %d columns (%s)" % (len(COLUMNS), ",".join(COLUMNS)))
    kind = cells[REST["type"]].strip()
    tag = whitelist.normal(cells["uid"], kind)
    problem = whitelist.tag_problem(tag, kind) if kind in ("rfid", "evccid") else ""
    if problem:
        raise Malformed(line, problem)
    data: Record = {}
    for f in AREA.fields:
        raw = cells[REST[f.name]]
        raw = raw if f.name == "name" else raw.strip()  # a name is kept as written
        if f.kind == chargeschema.BOOL:
            if raw.lower() not in BOOLS:
                raise Malformed(line, "%s must be true or false, got %r" % (REST[f.name], raw))
            data[f.name] = BOOLS[raw.lower()]
        else:
            data[f.name] = raw
    try:
        return tag, AREA.validate(data)
    except chargeschema.Invalid as e:
        name, why = sorted(e.errors.items())[0]
        raise Malformed(line, "%s: %s" % (REST.get(name, name), why)) from None


def changes(current: dict[str, Record], imported: dict[str, Record], replace: bool) -> list[Any]:
    """The store changes of an import: add (overwrite the same tags) or replace the whole whitelist;
    `Malformed` (line 0) when the result would hold more than WHITELIST_MAX entries."""
    after = set(imported) | (set() if replace else set(current))
    if len(after) > WHITELIST_MAX:
        raise Malformed(0, whitelist.full_reason(len(after)))
    gone = [("whitelist", tag, None) for tag in current if replace and tag not in imported]
    return gone + [("whitelist", tag, rec) for tag, rec in sorted(imported.items())]
