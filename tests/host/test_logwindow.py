"""Log lines in a time window (OCPP GetDiagnostics' startTime/stopTime): a service stamps each line in
UTC whatever the machine's time zone, and the window keeps the stamped lines inside it with the unstamped
lines that follow them (a traceback)."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

from chargepark import logwindow

UTC = datetime.UTC
LOG = b"""2026-12-02T10:00:00.000Z ocpp16 INFO before
2026-12-02T11:00:00.250Z ocpp16 WARNING inside
Traceback (most recent call last):
  the traceback's lines belong to the line before
2026-12-02T12:00:00.000Z ocpp16 INFO at the end, kept
2026-12-02T12:00:01.000Z ocpp16 INFO after
"""


def at(hh: int, ss: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, 2, hh, 0, ss, tzinfo=UTC)


def test_the_window_keeps_its_lines_and_their_followers() -> None:
    lines = LOG.splitlines(keepends=True)
    assert logwindow.within(LOG, at(11), at(12)) == b"".join(lines[1:5])
    assert logwindow.within(LOG, None, at(10)) == lines[0]
    assert logwindow.within(LOG, at(12, 1), None) == lines[5]
    assert logwindow.within(LOG, None, None) == LOG
    assert logwindow.within(b"no stamp at all\n", at(11), None) == b""  # its time is unknown: not in a window
    assert logwindow.within(b"no stamp at all\n", None, at(11)) == b"no stamp at all\n"


def test_a_service_stamps_its_lines_in_utc_whatever_the_time_zone() -> None:
    code = "from chargepark.services.base import log_to_stderr; import logging; log_to_stderr('x'); logging.info('hi')"
    before = datetime.datetime.now(UTC).replace(microsecond=0)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                          env={**os.environ, "TZ": "America/New_York"})  # fmt: skip
    line = done.stderr.splitlines()[0]
    m = logwindow.STAMP.match(line + b"\n")
    assert m and line.endswith(b" x INFO hi"), line
    stamped = datetime.datetime.fromisoformat(m.group(1).decode()).replace(tzinfo=UTC)
    assert before <= stamped <= datetime.datetime.now(UTC)
