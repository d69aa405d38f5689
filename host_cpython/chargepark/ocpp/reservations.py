"""Reservations (OCPP 1.6 section 3.13): a connector kept for one idTag (or its parentIdTag) until the
expiry date. Kept in `<data>/ocpp_state.db` so a restart keeps them (and the module's `reserved` flag
matches them again). Connector 0 cannot be reserved (ReserveConnectorZeroSupported is false)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS reservations (
    reservation_id INTEGER PRIMARY KEY,
    connector INTEGER NOT NULL UNIQUE,
    id_tag TEXT NOT NULL,
    parent_id_tag TEXT,
    expiry TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Reservation:
    reservation_id: int
    connector: int
    id_tag: str
    parent_id_tag: str | None
    expiry: str  # ISO 8601 UTC

    def admits(self, tag: str, parent: str | None) -> bool:
        """The reserved tag, or one with the reservation's parentIdTag."""
        return tag == self.id_tag or (self.parent_id_tag is not None and parent == self.parent_id_tag)


class Reservations:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)

    def _rows(self, where: str = "", args: tuple[object, ...] = ()) -> list[Reservation]:
        sql = "SELECT reservation_id, connector, id_tag, parent_id_tag, expiry FROM reservations " + where
        return [Reservation(*row) for row in self.db.execute(sql, args)]

    def all(self) -> list[Reservation]:
        return self._rows("ORDER BY connector")

    def at(self, connector: int) -> Reservation | None:
        rows = self._rows("WHERE connector = ?", (connector,))
        return rows[0] if rows else None

    def by_id(self, reservation_id: int) -> Reservation | None:
        rows = self._rows("WHERE reservation_id = ?", (reservation_id,))
        return rows[0] if rows else None

    def put(self, r: Reservation) -> None:
        """A new reservation, or one that replaces the reservation of the same id (1.6: ReserveNow with a
        known reservationId replaces it)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM reservations WHERE reservation_id = ?", (r.reservation_id,))
            self.db.execute(
                "INSERT INTO reservations VALUES (?, ?, ?, ?, ?)",
                (r.reservation_id, r.connector, r.id_tag, r.parent_id_tag, r.expiry),
            )

    def remove(self, reservation_id: int) -> None:
        with self.db:
            self.db.execute("DELETE FROM reservations WHERE reservation_id = ?", (reservation_id,))

    def expired(self, now_iso: str) -> list[Reservation]:
        """Reservations past their expiry (removed)."""
        gone = [r for r in self.all() if r.expiry[:19] <= now_iso[:19]]
        for r in gone:
            self.remove(r.reservation_id)
        return gone
