"""What the WBM page "OCPP" shows of the running service: the connection (online or not, since when, the
last error), each connector's last StatusNotification, and the last 50 OCPP messages in both directions.
Written by the service into `<data>/ocpp_journal.db` (synchronous=OFF: a view, not a record; the full
message log is the service's log, `ocpp16.log`), read by the WBM API (`wbm/ocpp.py`). The messages are
written FLUSH_S after the first of them, in one commit: two commits a message cost a replay ~10 % of its
rate."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("chargepark.ocpp")
FILE = "ocpp_journal.db"
KEEP = 50
FLUSH_S = 0.2  # the longest a message waits for the page
TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,
    direction TEXT NOT NULL, type TEXT NOT NULL, message_id TEXT NOT NULL, action TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS link (one INTEGER PRIMARY KEY CHECK (one = 1), online INTEGER NOT NULL, url TEXT NOT NULL,
    since REAL NOT NULL, error TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS connectors (connector INTEGER PRIMARY KEY, uid TEXT NOT NULL, status TEXT NOT NULL,
    error_code TEXT NOT NULL, info TEXT NOT NULL, at REAL NOT NULL);
"""
Row = tuple[float, str, str, str, str, Any]  # at, direction, type, message id, action, payload


class Journal:
    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.actions: dict[str, str] = {}  # message id of a CALL -> its action, for the answer's row
        self.pending: deque[Row] = deque(maxlen=KEEP)  # the frames not written yet (older ones would go)
        self.timer: asyncio.TimerHandle | None = None

    def close(self) -> None:
        self.flush()
        self.db.close()

    def frame(self, direction: str, raw: str) -> None:
        """One frame as sent or received ("out"/"in"); a frame that is no OCPP message is not kept."""
        try:
            msg = json.loads(raw)
            kind, mid = TYPES[int(msg[0])], str(msg[1])
            if kind == "CALL":
                action, payload = str(msg[2]), msg[3]
            else:
                action, payload = self.actions.pop(mid, ""), msg[2:] if kind == "CALLERROR" else msg[2]
        except (ValueError, KeyError, IndexError, TypeError):  # malformed: the CALLERROR answering it is kept
            return
        if kind == "CALL":
            self.actions[mid] = action
            if len(self.actions) > 4 * KEEP:
                self.actions.pop(next(iter(self.actions)))
        self.pending.append((time.time(), direction, kind, mid, action, payload))
        if self.timer is None:
            try:
                self.timer = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)
            except RuntimeError:  # no loop (a tool, a test): at once
                self.flush()

    def flush(self) -> None:
        """The pending frames into the table, the oldest beyond the last KEEP out, in one commit."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        rows = [(*row[:5], json.dumps(row[5])[:2000]) for row in self.pending]
        self.pending.clear()
        if rows:
            self._write(
                ("INSERT INTO messages (at, direction, type, message_id, action, payload) VALUES (?, ?, ?, ?, ?, ?)", rows),
                ("DELETE FROM messages WHERE seq <= (SELECT MAX(seq) FROM messages) - ?", [(KEEP,)]),
            )  # fmt: skip

    def _write(self, *statements: tuple[str, Sequence[tuple[object, ...]]]) -> None:
        """A view, never the cause of a failure: a write that fails (a full disk) is logged and dropped."""
        try:
            with self.db:
                self.db.execute("BEGIN")  # one commit (the connection is in autocommit mode)
                for sql, rows in statements:
                    self.db.executemany(sql, rows)
        except sqlite3.Error as e:
            log.warning("journal: %s", e)

    def link(self, online: bool, url: str, error: str = "") -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO link VALUES (1, ?, ?, ?, ?)", (int(online), url, time.time(), error)
            )

    def status(self, connector: int, uid: str, payload: dict[str, Any]) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO connectors VALUES (?, ?, ?, ?, ?, ?)",
                (
                    connector,
                    uid,
                    payload["status"],
                    payload["errorCode"],
                    payload.get("info", ""),
                    time.time(),
                ),
            )

    def forget_connectors(self, keep: set[int]) -> None:
        known = [c for (c,) in self.db.execute("SELECT connector FROM connectors").fetchall()]
        self._write(("DELETE FROM connectors WHERE connector = ?", [(c,) for c in known if c not in keep]))


def read(path: Path) -> dict[str, Any]:
    """The journal for the WBM: {link, connectors, messages (newest first)}; empty before the service ran."""
    if not path.is_file():
        return {"link": None, "connectors": [], "messages": []}
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        row = db.execute("SELECT online, url, since, error FROM link").fetchone()
        link = dict(zip(("online", "url", "since", "error"), row, strict=True)) if row else None
        if link:
            link["online"] = bool(link["online"])
        cols = ("connector", "uid", "status", "error_code", "info", "at")
        connectors = [
            dict(zip(cols, r, strict=True))
            for r in db.execute("SELECT %s FROM connectors ORDER BY connector" % ", ".join(cols))
        ]
        mcols = ("at", "direction", "type", "message_id", "action", "payload")
        messages = [dict(zip(mcols, r, strict=True))
                    for r in db.execute("SELECT %s FROM messages ORDER BY seq DESC LIMIT ?" % ", ".join(mcols), (KEEP,))]  # fmt: skip
    finally:
        db.close()
    return {"link": link, "connectors": connectors, "messages": messages}
