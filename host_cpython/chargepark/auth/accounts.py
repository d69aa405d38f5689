"""Users and server-side sessions in one SQLite file (`<data>/auth.db`, WAL, synchronous=FULL).

Why not the configuration store: its export documents travel between stations ("copy configuration",
backups handed to installers) and its writes are pushed to every service; password hashes belong to
neither. A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256, so a
copy of the file opens no session. A session ends on logout and after `IDLE_S` without a request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chargepark.auth.roles import LOGINS, Role

IDLE_S = 15 * 60.0  # a session unused this long is gone
TOUCH_S = 5.0  # last_seen is written at most this often per session (a synced write per request is slow)
MIN_PASSWORD = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role INTEGER NOT NULL,
    hash TEXT NOT NULL,
    must_change INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name),
    csrf TEXT NOT NULL,
    created REAL NOT NULL,
    last_seen REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Session:
    user: str
    role: Role
    csrf: str
    must_change: bool  # logged in with the factory password: only a password change is allowed


class PasswordRefused(ValueError):
    """A password change was refused; `field` names the body field at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time, idle_s: float = IDLE_S) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._hasher = PasswordHasher()
        self._clock = clock
        self.idle_s = idle_s
        self._dummy = self._hasher.hash(secrets.token_hex(8))  # unknown logins cost one verify too
        for login in LOGINS:  # the factory users, once
            self._db.execute(
                "INSERT OR IGNORE INTO users VALUES (?, ?, ?, 1)",
                (login.name, int(login.role), self._hasher.hash(login.factory_password)),
            )

    def close(self) -> None:
        self._db.close()

    def factory_logins(self) -> list[str]:
        """The logins whose factory password still works (the WBM shows a banner while any does)."""
        with self._lock:
            rows = self._db.execute("SELECT name FROM users WHERE must_change = 1 ORDER BY role").fetchall()
        return [str(r[0]) for r in rows]

    def _verify(self, name: str, password: str) -> tuple[Role, bool] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT role, hash, must_change FROM users WHERE name = ?", (name,)
            ).fetchone()
        try:
            self._hasher.verify(row[1] if row else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        return (Role(row[0]), bool(row[2])) if row else None

    def login(self, name: str, password: str) -> tuple[str, Session] | None:
        """A new session (token, session) for the right password, else None. Slow on purpose (argon2):
        call it off the event loop."""
        found = self._verify(name, password)
        if found is None:
            return None
        role, must_change = found
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self._clock()
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", (_sha(token), name, csrf, now, now)
            )
        return token, Session(name, role, csrf, must_change)

    def session(self, token: str) -> Session | None:
        """The live session of a cookie token (its idle time restarts), None if unknown or expired."""
        now = self._clock()
        key = _sha(token)
        with self._lock:
            row = self._db.execute(
                "SELECT s.user, u.role, s.csrf, u.must_change, s.last_seen FROM sessions s"
                " JOIN users u ON u.name = s.user WHERE s.token_sha256 = ?",
                (key,),
            ).fetchone()
            if row is None:
                return None
            if now - row[4] > self.idle_s:
                self._db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (key,))
                return None
            if now - row[4] >= TOUCH_S:
                self._db.execute("UPDATE sessions SET last_seen = ? WHERE token_sha256 = ?", (now, key))
        return Session(row[0], Role(row[1]), row[2], bool(row[3]))

    def logout(self, token: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_sha(token),))

    def change_password(self, name: str, old: str, new: str, keep_token: str = "") -> None:
        """Raises PasswordRefused; on success every session of the user but `keep_token`'s ends."""
        if self._verify(name, old) is None:
            raise PasswordRefused("old_password", "wrong password")
        factory = next((lg.factory_password for lg in LOGINS if lg.name == name), None)
        if len(new) < MIN_PASSWORD:
            raise PasswordRefused("new_password", "must have at least %d characters" % MIN_PASSWORD)
        if hmac.compare_digest(new, old) or new == factory or new == name:
            raise PasswordRefused(
                "new_password", "must differ from the old, the factory password and the login"
            )
        digest = self._hasher.hash(new)
        with self._lock:
            self._db.execute("UPDATE users SET hash = ?, must_change = 0 WHERE name = ?", (digest, name))
            self._db.execute(
                "DELETE FROM sessions WHERE user = ? AND token_sha256 != ?", (name, _sha(keep_token))
            )

    def purge(self) -> int:
        """Drop expired sessions; returns how many."""
        with self._lock:
            cur = self._db.execute("DELETE FROM sessions WHERE last_seen < ?", (self._clock() - self.idle_s,))
        return cur.rowcount
