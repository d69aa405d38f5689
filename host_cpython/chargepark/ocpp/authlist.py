"""Local authorization (OCPP 1.6 section 3.5): the Local Authorization List the backend sends
(SendLocalList, full or differential, with its version) and the Authorization Cache of the IdTagInfo the
backend answered (Authorize, StartTransaction, StopTransaction). Both live in `<data>/ocpp_state.db`, so a
restart keeps them. The list takes precedence over the cache: a tag the list knows is decided by the list."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ocpp.v16.enums import UpdateStatus

from chargepark.ocpp import vocab

LIST_MAX = 1000  # LocalAuthListMaxLength
SEND_MAX = 1000  # SendLocalListMaxLength

SCHEMA = """
CREATE TABLE IF NOT EXISTS local_list (id_tag TEXT PRIMARY KEY, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS local_list_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_cache (id_tag TEXT PRIMARY KEY, info TEXT NOT NULL);
"""


def open_state(path: str) -> sqlite3.Connection:
    """The service's durable state beside the queue (local list, cache, reservations, charging profiles)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def valid(info: dict[str, Any] | None, now: float) -> bool:
    """An IdTagInfo that lets the tag charge now: Accepted and not expired (an unreadable expiry is
    expired)."""
    if not info or info.get("status") != "Accepted":
        return False
    expiry = info.get("expiryDate")
    if not expiry:
        return True
    try:
        return vocab.moment(str(expiry)).timestamp() > now
    except ValueError:
        return False


class LocalAuth:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)

    # ---- the list ---------------------------------------------------------------------------------

    def version(self) -> int:
        row = self.db.execute("SELECT version FROM local_list_version").fetchone()
        return int(row[0]) if row else 0

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM local_list").fetchone()[0])

    def send(self, version: int, update: str, entries: list[dict[str, Any]]) -> UpdateStatus:
        """SendLocalList (entries in OCPP JSON names): Full replaces the list, Differential adds, changes
        and (an entry without idTagInfo) removes. A differential update not newer than the list is a
        VersionMismatch; one that would make the list too long Failed; either leaves the list as it was."""
        if len(entries) > SEND_MAX:
            return UpdateStatus.failed
        if update == "Differential" and version <= self.version():
            return UpdateStatus.version_mismatch
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if update == "Full":
                self.db.execute("DELETE FROM local_list")
            for e in entries:
                info = e.get("idTagInfo")
                if info is None:
                    self.db.execute("DELETE FROM local_list WHERE id_tag = ?", (e["idTag"],))
                else:
                    self.db.execute(
                        "INSERT OR REPLACE INTO local_list VALUES (?, ?)", (e["idTag"], json.dumps(info))
                    )
            if len(self) > LIST_MAX:
                self.db.execute("ROLLBACK")
                return UpdateStatus.failed
            self.db.execute(
                "INSERT OR REPLACE INTO local_list_version VALUES (1, ?)", (version if len(self) else 0,)
            )
        return UpdateStatus.accepted

    def listed(self, tag: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT info FROM local_list WHERE id_tag = ?", (tag,)).fetchone()
        return json.loads(row[0]) if row else None

    # ---- the cache --------------------------------------------------------------------------------

    def remember(self, tag: str, info: dict[str, Any]) -> None:
        """An IdTagInfo from the backend: into the cache (not for a tag the list decides)."""
        if self.listed(tag) is None:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO auth_cache VALUES (?, ?)", (tag, json.dumps(info)))

    def cached(self, tag: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT info FROM auth_cache WHERE id_tag = ?", (tag,)).fetchone()
        return json.loads(row[0]) if row else None

    def clear_cache(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM auth_cache")

    # ---- deciding -----------------------------------------------------------------------------------

    def info(self, tag: str, use_list: bool, use_cache: bool) -> dict[str, Any] | None:
        """What is known locally about the tag: the list's entry, else the cache's, else None."""
        listed = self.listed(tag) if use_list else None
        if listed is not None:
            return listed
        return self.cached(tag) if use_cache else None
