"""The lines of a service log within a time window (OCPP GetDiagnostics' startTime/stopTime). Every line a
service logs starts with its UTC time stamp (services/base.py: `2026-12-02T13:55:50.123Z name LEVEL ...`);
a line without one (a traceback's, a program's own output) belongs to the line before it."""

from __future__ import annotations

import datetime
import re

STAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?Z ")
UTC = datetime.UTC


def within(text: bytes, since: datetime.datetime | None, until: datetime.datetime | None) -> bytes:
    """The lines of `text` stamped in [since, until] (either open), with their unstamped followers."""
    kept, keep = [], since is None  # before the first stamp: only when the window has no start
    for line in text.splitlines(keepends=True):
        m = STAMP.match(line)
        if m:
            at = datetime.datetime.fromisoformat(m.group(1).decode()).replace(tzinfo=UTC)
            keep = (since is None or at >= since) and (until is None or at <= until)
        if keep:
            kept.append(line)
    return b"".join(kept)
