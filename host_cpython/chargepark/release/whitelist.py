"""The park's local whitelist (manual "WBM - Whitelist"): what an entry allows, how a tag is written, the
index the RFID decision looks a card up in, and the cards recently read at the park's readers.

The entries live in the store's `whitelist` area (`config/schemas.py` WHITELIST, at most WHITELIST_MAX,
keyed by the tag); an RFID tag is hexadecimal (upper case here, as readers render it), an EVCC ID is
the vehicle's ISO 15118 id. A card matches an entry whatever the case of its hex digits.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from chargepark.config.schemas import WHITELIST_MAX

Record = dict[str, Any]
HEX = re.compile(r"^[0-9A-F]{2,64}$")
EVCCID = re.compile(r"^[0-9A-Z:._-]{1,64}$")
SEPARATORS = re.compile(r"[\s:-]")
RECENT = 20  # the cards "Recently scanned" keeps
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def normal(tag: str, kind: str = "rfid") -> str:
    """The written form of a tag: an RFID UID upper-case hex without separators, an EVCC ID upper case."""
    tag = tag.strip().upper()
    return SEPARATORS.sub("", tag) if kind == "rfid" else tag


def tag_problem(tag: str, kind: str = "rfid") -> str:
    """Why `tag` (already `normal`) cannot be a whitelist entry of `kind`; empty if it can."""
    if kind == "rfid" and not HEX.match(tag):
        return "an RFID tag is 2..64 hexadecimal digits (0-9, A-F), got %r" % tag
    if kind == "evccid" and not EVCCID.match(tag):
        return "an EVCC ID is 1..64 letters, digits or : . _ -, got %r" % tag
    return ""


def utc(unix: float) -> str:
    return datetime.datetime.fromtimestamp(unix, datetime.UTC).strftime(UTC_FORMAT)


def refusal(entry: Record | None, now: float) -> str:
    """Why an entry releases nothing at `now` (unix seconds); empty if it releases."""
    if entry is None:
        return "not on the whitelist"
    if not entry["allow_charging"]:
        return "on the whitelist, charging not allowed"
    if utc(now) >= entry["expiry_utc"]:  # both UTC in one fixed format: the strings order as the times
        return "expired at %s" % entry["expiry_utc"]
    return ""


class Index:
    """The entries by tag, for a lookup per card read; rebuilt when the whitelist area changes."""

    def __init__(self, entries: dict[str, Record]) -> None:
        self.entries = {k.upper(): v for k, v in entries.items()}

    def find(self, tag: str) -> Record | None:
        return self.entries.get(tag.upper())

    def refusal(self, tag: str, now: float) -> str:
        return refusal(self.find(tag), now)


def full_reason(count: int) -> str:
    return "the whitelist holds at most %d entries (it would hold %d)" % (WHITELIST_MAX, count)


@dataclass(frozen=True)
class Scan:
    tag: str
    reader: str  # the point whose reader read it
    at: float
    verdict: str  # "accepted", the refusal, "teach-in", ... (what the head made of it)

    def view(self) -> Record:
        return {"tag": self.tag, "reader": self.reader, "at": utc(self.at), "verdict": self.verdict}


class Recent:
    """The last RECENT cards read, newest first (the manual's "Recently scanned RFIDs/EVCC IDs")."""

    def __init__(self) -> None:
        self.scans: deque[Scan] = deque(maxlen=RECENT)

    def add(self, tag: str, reader: str, verdict: str, at: float | None = None) -> None:
        self.scans.appendleft(Scan(tag, reader, time.time() if at is None else at, verdict))

    def view(self) -> list[Record]:
        return [s.view() for s in self.scans]


class Seen:
    """A service's copy of the RFID decision's retained state (`topics.RFID_RECENT`): recent cards, teach."""

    def __init__(self) -> None:
        self.state: Record = {"scans": [], "teach": None}

    def on_recent(self, topic: str, raw: bytes) -> None:
        try:
            state = json.loads(raw)
        except ValueError:
            return
        if isinstance(state, dict) and isinstance(state.get("scans"), list):
            self.state = state
