"""Store layout versions and the steps between them.

Version 1: `meta(name, value)` and `records(area, key, body)`.
Version 2: adds a CRC-32 per record (a bad record is found at start, not served) and change counters per
area (services poll them or are notified).
Version 3: a meter type exists exactly when its register map does (pointconfig.METER_TYPES): a charging
point that names a type without one (it never read: error bit 25 at once) has no meter (`upgrade`; exports
of versions 1 and 2 are upgraded the same way on import).
Version 4: the `ocpp` area has no StopTransactionOnEVSideDisconnect: it is a read-only key, true (the IO
module ends the session at unplug; `ocpp.keys`), so a stored value is dropped (exports the same way).

A step runs inside the caller's transaction: a failed migration leaves the old store as it was.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

import pointconfig

FORMAT = "chargepark-config"
VERSION = 4

LAYOUT = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (
    area TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, crc INTEGER NOT NULL,
    PRIMARY KEY (area, key));
CREATE TABLE versions (area TEXT PRIMARY KEY, version INTEGER NOT NULL);
"""


def crc(area: str, key: str, body: str) -> int:
    """CRC-32 over the whole row, so a damaged area or key is found as well as a damaged body."""
    return zlib.crc32("\0".join((area, key, body)).encode()) & 0xFFFFFFFF


def create(db: sqlite3.Connection) -> None:
    for statement in LAYOUT.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO meta VALUES ('format', ?), ('version', ?)", (FORMAT, str(VERSION)))


def _v1_to_v2(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE records ADD COLUMN crc INTEGER NOT NULL DEFAULT 0")
    for area, key, body in db.execute("SELECT area, key, body FROM records").fetchall():
        db.execute("UPDATE records SET crc = ? WHERE area = ? AND key = ?", (crc(area, key, body), area, key))
    db.execute("CREATE TABLE versions (area TEXT PRIMARY KEY, version INTEGER NOT NULL)")


def upgrade(area: str, record: Any, version: int) -> Any:
    """A record as a version-`version` store or export holds it, in the current form (the schema judges
    the result)."""
    if version < 3 and area == "chargepoint" and isinstance(record, dict):
        if record.get("meter_type", "none") not in pointconfig.METER_TYPES:
            record = {**record, "meter_type": "none"}
    if (
        version < 4
        and area == "ocpp"
        and isinstance(record, dict)
        and "StopTransactionOnEVSideDisconnect" in record
    ):
        record = {k: v for k, v in record.items() if k != "StopTransactionOnEVSideDisconnect"}
    return record


def _upgrade_area(db: sqlite3.Connection, area: str, version: int) -> None:
    """Rewrites the area's records that `upgrade` changes (from a version-`version` store)."""
    rows = db.execute("SELECT key, body, crc FROM records WHERE area = ?", (area,)).fetchall()
    for key, body, check in rows:
        if not isinstance(body, str) or check != crc(area, key, body):
            continue  # damaged: left for the check at open to refuse
        try:
            record = json.loads(body)
        except ValueError:
            continue
        new = upgrade(area, record, version)
        if new is not record:
            text = json.dumps(new, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            db.execute(
                "UPDATE records SET body = ?, crc = ? WHERE area = ? AND key = ?",
                (text, crc(area, key, text), area, key),
            )


# STEPS[v] turns a version-v store into version v + 1.
STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _v1_to_v2,
    2: partial(_upgrade_area, area="chargepoint", version=2),
    3: partial(_upgrade_area, area="ocpp", version=3),
}


def migrate(db: sqlite3.Connection, version: int) -> None:
    for v in range(version, VERSION):
        STEPS[v](db)
    db.execute("UPDATE meta SET value = ? WHERE name = 'version'", (str(VERSION),))
