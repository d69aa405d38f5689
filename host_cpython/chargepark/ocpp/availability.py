"""OCPP availability kept across restarts (OCPP 1.6, ChangeAvailability: the availability persists a
reboot): a connector the backend made Inoperative stays so until it makes it Operative, whether the head
or the point's IO module restarts in between. Kept in `<data>/ocpp_state.db`; a module that forgot it (its
live sample shows it available: it restarted) is made unavailable again by `Feed`."""

from __future__ import annotations

import sqlite3

SCHEMA = "CREATE TABLE IF NOT EXISTS inoperative (connector INTEGER PRIMARY KEY);"


class Availability:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)
        # read on every live sample: kept in memory beside the table
        self.connectors = {int(c) for (c,) in db.execute("SELECT connector FROM inoperative")}

    def set(self, connectors: list[int], operative: bool) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for c in connectors:
                if operative:
                    self.db.execute("DELETE FROM inoperative WHERE connector = ?", (c,))
                else:
                    self.db.execute("INSERT OR IGNORE INTO inoperative VALUES (?)", (c,))

    def inoperative(self, connector: int) -> bool:
        return (
            self.db.execute("SELECT 1 FROM inoperative WHERE connector = ?", (connector,)).fetchone()
            is not None
        )
