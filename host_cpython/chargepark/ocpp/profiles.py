"""The installed charging profiles (SetChargingProfile), kept as the backend sent them in
`<data>/ocpp_state.db` so a restart keeps them; the rules are `smartcharging`'s."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from chargepark.ocpp import smartcharging as sc

SCHEMA = """
CREATE TABLE IF NOT EXISTS charging_profiles (id INTEGER PRIMARY KEY, connector INTEGER NOT NULL, body TEXT NOT NULL);
"""


class Profiles:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)
        rows = db.execute("SELECT id, connector, body FROM charging_profiles")
        self._bodies: dict[int, tuple[int, str]] = {int(i): (int(c), body) for i, c, body in rows}
        self.installed = [sc.parse(c, json.loads(body)) for c, body in self._bodies.values()]

    def _write(self, kept: list[sc.Profile]) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM charging_profiles")
            self.db.executemany(
                "INSERT INTO charging_profiles VALUES (?, ?, ?)", [(p.id, *self._bodies[p.id]) for p in kept]
            )
        self._bodies = {p.id: self._bodies[p.id] for p in kept}
        self.installed = kept

    def set(self, connector: int, body: dict[str, Any]) -> sc.Profile:
        """Installs a csChargingProfiles object (OCPP JSON names); sc.Refused when it may not be."""
        new = sc.parse(connector, body)
        kept = sc.install(self.installed, new)
        self._bodies[new.id] = (connector, json.dumps(body))
        self._write(kept)
        return new

    def clear(
        self, id: int | None, connector: int | None, purpose: str | None, stack_level: int | None
    ) -> int:
        """ClearChargingProfile: how many went."""
        kept = [p for p in self.installed if not sc.matches(p, id, connector, purpose, stack_level)]
        gone = len(self.installed) - len(kept)
        if gone:
            self._write(kept)
        return gone

    def end_transaction(self, connector: int) -> None:
        """A TxProfile ends with its transaction."""
        self.clear(None, connector, sc.TX, None)
