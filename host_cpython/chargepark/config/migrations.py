"""Store layout versions and the steps between them.

Version 1: `meta(name, value)` and `records(area, key, body)`.
Version 2: adds a CRC-32 per record (a bad record is found at start, not served) and change counters per
area (services poll them or are notified).

A step runs inside the caller's transaction: a failed migration leaves the old store as it was.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable

FORMAT = "chargepark-config"
VERSION = 2

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


# STEPS[v] turns a version-v store into version v + 1.
STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}


def migrate(db: sqlite3.Connection, version: int) -> None:
    for v in range(version, VERSION):
        STEPS[v](db)
    db.execute("UPDATE meta SET value = ? WHERE name = 'version'", (str(VERSION),))
