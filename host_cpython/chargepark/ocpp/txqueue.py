"""The transaction messages (StartTransaction, StopTransaction, transaction MeterValues) on their way to the
backend: queued durably (SQLite, synchronous=FULL) before anything is sent, delivered in order, removed
only once answered. A StopTransaction or MeterValues of a transaction whose StartTransaction is not answered
yet carries our own reference; its `transactionId` is filled in from the backend's answer when it is sent.

A message is re-sent with the same message id after a connection loss (a backend may use it to drop a
duplicate); a CALLERROR answer counts as a failed attempt and after `TransactionMessageAttempts` the message
is dropped, so a refusal never blocks the queue.

Every commit reaches the file before it returns (WAL), so a `kill -9` of the service loses none. Each is
also flushed to the disk (fsync, 3-10 ms) except the removal of a delivered message other than a
StartTransaction: a power loss may bring back the last few of those, re-sent with their message ids (a
duplicate, never a loss: the WAL keeps a prefix of the commits, so the order holds), while a
StartTransaction's id mapping is flushed before any later message carries the id. That keeps a replay from
waiting on an fsync for most messages (bench/bench_ocpp.py)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    ref INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL,
    session INTEGER NOT NULL,
    connector INTEGER NOT NULL,
    id_tag TEXT NOT NULL,
    meter_start INTEGER NOT NULL,
    tx_id INTEGER,
    refused INTEGER NOT NULL DEFAULT 0,
    stopped INTEGER NOT NULL DEFAULT 0,
    started REAL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    unique_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    ref INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0
);
"""


TX_COLUMNS = "ref, uid, session, connector, id_tag, meter_start, tx_id, started"


@dataclass(frozen=True)
class Transaction:
    ref: int
    uid: str
    session: int
    connector: int
    id_tag: str
    meter_start: int
    tx_id: int | None
    started: float | None  # epoch seconds (relative charging profiles count from it)


@dataclass(frozen=True)
class Message:
    seq: int
    unique_id: str
    action: str
    payload: dict[str, Any]  # with the transactionId filled in when the backend gave one
    ref: int | None
    attempts: int
    orphan: bool  # its transaction's StartTransaction was refused: there is no id to send it with


class TxQueue:
    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(transactions)")}
        if "started" not in columns:  # a queue of the version before smart charging
            self.db.execute("ALTER TABLE transactions ADD COLUMN started REAL")
        # The running transactions, uid -> the newest: asked for every connector at every status look, live
        # sample and limit round (250 connectors), kept beside the table (this process is its one writer)
        # and updated only after each commit.
        self._running: dict[str, Transaction] = {}
        for row in self.db.execute(
            "SELECT %s FROM transactions WHERE stopped = 0 ORDER BY ref" % TX_COLUMNS
        ).fetchall():
            self._running[row[1]] = Transaction(*row)

    def close(self) -> None:
        self.db.close()

    def _push(self, action: str, payload: dict[str, Any], ref: int | None) -> None:
        self.db.execute(
            "INSERT INTO messages (unique_id, action, payload, ref) VALUES (?, ?, ?, ?)",
            (str(uuid.uuid4()), action, json.dumps(payload), ref),
        )

    # ---- transactions -----------------------------------------------------------------------------

    def start(
        self,
        uid: str,
        session: int,
        connector: int,
        id_tag: str,
        meter_wh: int,
        at: str,
        reservation: int | None = None,
        started: float | None = None,
    ) -> int:
        """A transaction starts: it and its StartTransaction are stored in one commit."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            ref = self.db.execute(
                "INSERT INTO transactions (uid, session, connector, id_tag, meter_start, started) VALUES (?, ?, ?, ?, ?, ?)",
                (uid, session, connector, id_tag, meter_wh, started),
            ).lastrowid
            assert ref is not None
            payload: dict[str, Any] = {
                "connectorId": connector,
                "idTag": id_tag,
                "meterStart": meter_wh,
                "timestamp": at,
            }
            if reservation is not None:
                payload["reservationId"] = reservation
            self._push("StartTransaction", payload, ref)
        self._running[uid] = Transaction(ref, uid, session, connector, id_tag, meter_wh, None, started)
        return ref

    def running(self, uid: str) -> Transaction | None:
        return self._running.get(uid)

    def by_tx_id(self, tx_id: int) -> Transaction | None:
        return next((tx for tx in self._running.values() if tx.tx_id == tx_id), None)

    def stop(
        self, ref: int, meter_wh: int, at: str, reason: str, extra: dict[str, Any] | None = None
    ) -> bool:
        """The transaction ends: marked stopped and its StopTransaction queued in one commit. False when it
        was stopped already (a second stop of one transaction is never sent)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if not self.db.execute(
                "UPDATE transactions SET stopped = 1 WHERE ref = ? AND stopped = 0", (ref,)
            ).rowcount:
                return False
            payload = {
                "meterStop": meter_wh,
                "timestamp": at,
                "transactionId": None,
                "reason": reason,
                **(extra or {}),
            }
            self._push("StopTransaction", payload, ref)
        self._forget(ref)
        return True

    def _forget(self, ref: int) -> None:
        for uid, tx in list(self._running.items()):
            if tx.ref == ref:
                del self._running[uid]

    def adopt(self, ref: int, session: int) -> None:
        """A running transaction goes on in the module's new session (the module restarted under it)."""
        self.db.execute("UPDATE transactions SET session = ? WHERE ref = ?", (session, ref))
        for uid, tx in list(self._running.items()):
            if tx.ref == ref:
                self._running[uid] = dataclasses.replace(tx, session=session)

    def meter_values(self, ref: int, connector: int, meter_value: list[dict[str, Any]]) -> None:
        self.meter_values_of([(ref, connector, meter_value)])

    def meter_values_of(self, samples: list[tuple[int, int, list[dict[str, Any]]]]) -> None:
        """A sample round's MeterValues (ref, connector, meterValue) of many transactions, in one commit."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for ref, connector, meter_value in samples:
                payload = {"connectorId": connector, "transactionId": None, "meterValue": meter_value}
                self._push("MeterValues", payload, ref)

    # ---- delivery ---------------------------------------------------------------------------------

    def head(self) -> Message | None:
        row = self.db.execute(
            "SELECT m.seq, m.unique_id, m.action, m.payload, m.ref, m.attempts, t.tx_id, t.refused "
            "FROM messages m LEFT JOIN transactions t ON t.ref = m.ref ORDER BY m.seq LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        seq, unique_id, action, raw, ref, attempts, tx_id, refused = row
        payload = json.loads(raw)
        if "transactionId" in payload:
            payload["transactionId"] = tx_id
        orphan = "transactionId" in payload and (bool(refused) or tx_id is None)
        return Message(seq, unique_id, action, payload, ref, attempts, orphan)

    def delivered(self, msg: Message, answer: dict[str, Any]) -> None:
        """The backend answered: the message goes. A StartTransaction's transactionId is kept in the same
        commit, flushed to the disk before the later messages carry it; any other removal is in the file
        (a `kill -9` loses none) but not flushed: after a power loss the last few may be sent again with
        their message ids (one fsync each, 3-10 ms, held a replay ~10 % below its rate)."""
        if msg.action == "StartTransaction" and msg.ref is not None:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute(
                    "UPDATE transactions SET tx_id = ? WHERE ref = ?", (answer["transactionId"], msg.ref)
                )
                self.db.execute("DELETE FROM messages WHERE seq = ?", (msg.seq,))
            self._set_tx_id(msg.ref, answer["transactionId"])
            return
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self.db.execute("DELETE FROM messages WHERE seq = ?", (msg.seq,))  # one statement, one commit
        finally:
            self.db.execute("PRAGMA synchronous=FULL")

    def _set_tx_id(self, ref: int | None, tx_id: int) -> None:
        for uid, tx in self._running.items():
            if tx.ref == ref:
                self._running[uid] = dataclasses.replace(tx, tx_id=tx_id)

    def failed(self, msg: Message, attempts: int) -> bool:
        """A CALLERROR answer: one more attempt used; True when the message was dropped (its last attempt)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if msg.attempts + 1 < attempts:
                self.db.execute("UPDATE messages SET attempts = attempts + 1 WHERE seq = ?", (msg.seq,))
                return False
            if msg.action == "StartTransaction" and msg.ref is not None:
                self.db.execute("UPDATE transactions SET refused = 1 WHERE ref = ?", (msg.ref,))
            self.db.execute("DELETE FROM messages WHERE seq = ?", (msg.seq,))
        return True

    def drop(self, msg: Message) -> None:
        with self.db:
            self.db.execute("DELETE FROM messages WHERE seq = ?", (msg.seq,))

    def uids_queued(self) -> set[str]:
        """The points with transaction messages still to deliver."""
        rows = self.db.execute("SELECT DISTINCT t.uid FROM messages m JOIN transactions t ON t.ref = m.ref")
        return {uid for (uid,) in rows}

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
