"""Charging sessions (plug-in to unplug), stored durably: SQLite in WAL mode, synchronous=FULL.

The sessions are the IO modules' (iomodule/session.py): a row opens at plug-in with the meter reading,
notes the first charging release (time and meter: where an OCPP transaction starts) and closes with the
module's energy, durations, meter reading and reason (chargedefs.STOP_REASONS; `superseded` when a new
plug-in arrived first, `lost` when the hub mended a missed stop). A meter reading of -1 = none.

A write is acknowledged when `apply` returns: its transaction is committed and synced, so a `kill -9`
(or power loss) afterwards cannot lose it. One transaction per batch keeps 250 points cheap.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    start_meter_wh INTEGER NOT NULL,
    energy_wh INTEGER NOT NULL DEFAULT 0,
    id_tag TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    connected_s REAL NOT NULL DEFAULT 0,
    charge_s REAL NOT NULL DEFAULT 0,
    updated REAL NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    released REAL,
    release_meter_wh INTEGER,
    stop_meter_wh INTEGER
);
CREATE INDEX IF NOT EXISTS sessions_uid ON sessions(uid, ended);
"""
ADDED_COLUMNS = (("released", "REAL"), ("release_meter_wh", "INTEGER"), ("stop_meter_wh", "INTEGER"))


@dataclass(frozen=True)
class Op:
    """One session write: kind "start" (opens one for uid), "release", "update" or "stop" (its open one)."""

    kind: str
    uid: str
    at: float
    energy_wh: int = 0
    meter_wh: int = 0
    id_tag: str = ""
    reason: str = ""
    connected_s: float = 0.0
    charge_s: float = 0.0
    seq: int = 0  # caller's sequence number (the durability test checks it)


class SessionStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        have = {row[1] for row in self.db.execute("PRAGMA table_info(sessions)")}
        for column, kind in ADDED_COLUMNS:
            if column not in have:  # a file from before the column
                self.db.execute("ALTER TABLE sessions ADD COLUMN %s %s" % (column, kind))

    def close(self) -> None:
        self.db.close()

    def apply(self, ops: list[Op]) -> None:
        """Writes ops in one transaction; returns only once it is durable."""
        if not ops:
            return
        cur = self.db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for op in ops:
                self._one(cur, op)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def _one(self, cur: sqlite3.Cursor, op: Op) -> None:
        if op.kind == "start":
            # A vehicle can only be plugged once: a session left open (unplug missed) ends here.
            cur.execute(
                "UPDATE sessions SET ended=?, reason='superseded', updated=? WHERE uid=? AND ended IS NULL",
                (op.at, op.at, op.uid),
            )
            cur.execute(
                "INSERT INTO sessions (uid, started, start_meter_wh, id_tag, updated, seq) VALUES (?,?,?,?,?,?)",
                (op.uid, op.at, op.meter_wh, op.id_tag, op.at, op.seq),
            )
        elif op.kind == "release":
            cur.execute(
                "UPDATE sessions SET released=?, release_meter_wh=?, id_tag=?, updated=?, seq=?"
                " WHERE uid=? AND ended IS NULL AND released IS NULL",
                (op.at, op.meter_wh, op.id_tag, op.at, op.seq, op.uid),
            )
            if cur.rowcount == 0 and not self._has_open(cur, op.uid):
                self._insert_missed(cur, op)
        elif op.kind in ("update", "stop"):
            stop = op.kind == "stop"
            cur.execute(
                "UPDATE sessions SET energy_wh=?, id_tag=?, connected_s=?, charge_s=?, updated=?, seq=?,"
                " ended=?, reason=?, stop_meter_wh=? WHERE uid=? AND ended IS NULL",
                (
                    op.energy_wh, op.id_tag, op.connected_s, op.charge_s, op.at, op.seq,
                    op.at if stop else None, op.reason, op.meter_wh if stop else None, op.uid,
                ),
            )  # fmt: skip
            if cur.rowcount == 0:
                self._insert_missed(cur, op)
        else:
            raise ValueError("unknown session op %r" % op.kind)

    @staticmethod
    def _has_open(cur: sqlite3.Cursor, uid: str) -> bool:
        return (
            cur.execute("SELECT 1 FROM sessions WHERE uid=? AND ended IS NULL", (uid,)).fetchone() is not None
        )

    @staticmethod
    def _insert_missed(cur: sqlite3.Cursor, op: Op) -> None:
        """A session whose start this store never got (the hub died before writing it): kept from what
        the later write knows, its start back dated by the module's plug-in duration."""
        stop = op.kind == "stop"
        start_meter = op.meter_wh - op.energy_wh if op.meter_wh >= 0 else -1
        cur.execute(
            "INSERT INTO sessions (uid, started, ended, start_meter_wh, energy_wh, id_tag, reason, connected_s,"
            " charge_s, updated, seq, released, release_meter_wh, stop_meter_wh) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                op.uid, op.at - op.connected_s, op.at if stop else None, start_meter, op.energy_wh, op.id_tag,
                op.reason, op.connected_s, op.charge_s, op.at, op.seq, op.at if op.kind == "release" else None,
                op.meter_wh if op.kind == "release" else None, op.meter_wh if stop else None,
            ),
        )  # fmt: skip

    def open_sessions(self) -> dict[str, dict[str, Any]]:
        rows = self._rows("SELECT * FROM sessions WHERE ended IS NULL ORDER BY id", ())
        return {str(r["uid"]): r for r in rows}

    def recent(self, uid: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        if uid is None:
            return self._rows("SELECT * FROM sessions ORDER BY id DESC LIMIT ?", (limit,))
        return self._rows("SELECT * FROM sessions WHERE uid=? ORDER BY id DESC LIMIT ?", (uid, limit))

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        cur = self.db.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
