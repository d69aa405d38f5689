"""The RFID decision (part of the jupicore service): a card read at a point's reader (the module event
`rfid_read`) is looked up in the park's whitelist and answered with the module's `rfid` command, through
the release gate as the `whitelist` path.

- Which points a reader serves: a point whose `rfid_reader` names the reader's point, or, with an empty
  field, its own reader. Only points in release mode whitelist are decided here; a point in release mode
  OCPP is the OCPP service's (it sends Authorize); a card at a point of any other mode is only recorded.
- The answer goes to the point the card is for: among the points the reader serves, the first without a
  release, one with a vehicle plugged in first. The module releases on `ok` (and fires RFID Charge
  Release) or fires RFID Denied and sets Last RFID Invalid; it discards a release no vehicle takes up
  within its `rfid_timeout_s`.
- The same card again at a point it released ends the session and unlocks (`enforce_unlock`, which the
  module holds until the plug is out) when the OCPP key PresentingRFIDEndCharging is on (default on).
- A teach-in or teach-out armed at a reader (the WBM, `arm`) takes the next card read there instead:
  it is added to or removed from the whitelist and the reader's point is told the result (`teach`), for
  the Event Actions Teach-in Successful, Teach-out Successful and Teach-in Failed.
- Every card read lands in the recently scanned list with what was made of it (published retained on
  `topics.RFID_RECENT` for the WBM).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import chargedefs as cd
import chargeschema

from chargepark import pointops, topics
from chargepark.release import whitelist

log = logging.getLogger("chargepark.release")
TEACH_S = 60  # an armed teach-in waits this long for a card, unless told otherwise
LIVE_LAG_S = 2.0  # a live sample this old may not show a release yet (the agent polls every 0.5 s)
PLUGGED = tuple(cd.STATUSES.index(s) for s in ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE"))


class Commander(Protocol):
    async def command(self, uid: str, name: str, value: Any = None) -> None: ...


class Store(Protocol):
    def get(self, area_name: str, key: str | None = None) -> Any: ...

    def put(self, area_name: str, data: Any, key: str | None = None) -> dict[str, Any]: ...

    def delete(self, area_name: str, key: str | None = None) -> None: ...

    def versions(self) -> dict[str, int]: ...


@dataclass
class Teach:
    reader: str
    mode: str  # "in" | "out"
    until: float

    def view(self) -> dict[str, Any]:
        return {"reader": self.reader, "mode": self.mode, "until": whitelist.utc(self.until)}


class Decider:
    def __init__(
        self,
        store: Store,
        ops: Commander,
        live: Callable[[str], dict[str, Any]],
        publish: Callable[[str, str], None] = lambda _t, _p: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.ops = ops  # the gated command path, source "whitelist"
        self.live = live  # uid -> its latest live sample ({} when none)
        self.publish = publish
        self.clock = clock
        self.recent = whitelist.Recent()
        self.teach: Teach | None = None
        self.released_by: dict[str, tuple[str, float]] = {}  # point -> (tag, when) of its current release
        self.decisions_s: list[float] = []  # head decision times (bench)
        self.events: asyncio.Queue[tuple[str, str, Any]] = asyncio.Queue()
        self._index: whitelist.Index | None = None
        self._index_version = -1

    # ---- inputs ----------------------------------------------------------------------------------

    def on_event(self, topic: str, raw: bytes) -> None:
        """The agent's event topic (an MQTT handler): cards and session ends queue for `run`, in order."""
        uid = topics.uid_of(topic, topics.AGENT_EVENT)
        try:
            ev = json.loads(raw)
            name, arg = str(ev["event"]), ev.get("arg")
        except (ValueError, KeyError, TypeError):
            return  # the data hub counts and logs bad events
        if uid is not None and name in ("rfid_read", "session_stop"):
            self.events.put_nowait((uid, name, arg))

    async def run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._lapses_in()):
                    uid, name, arg = await self.events.get()
            except TimeoutError:
                await self.arm(None)  # nobody presented a card in time
                continue
            if name == "session_stop":
                self.released_by.pop(uid, None)
            elif name == "teach":
                await self.arm(arg)
            elif isinstance(arg, str) and arg:
                try:
                    await self.card(uid, arg)
                except (ValueError, TypeError, KeyError) as e:  # one bad card never stops the decisions
                    log.warning("card %r at %s: %s", arg, uid, e)

    def on_teach(self, topic: str, raw: bytes) -> None:
        """The WBM arms (`{"reader", "mode": "in"|"out", "seconds"}`) or cancels (`mode` "off")."""
        try:
            req = json.loads(raw)
            mode, reader = str(req["mode"]), str(req.get("reader", ""))
            seconds = float(req.get("seconds", TEACH_S))
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("bad teach request %r", raw[:200])
            return
        ok = mode in ("in", "out") and reader and 0 < seconds <= 3600
        self.events.put_nowait(("", "teach", Teach(reader, mode, self.clock() + seconds) if ok else None))

    def _lapses_in(self) -> float | None:
        return None if self.teach is None else max(0.0, self.teach.until - self.clock())

    async def arm(self, teach: Teach | None) -> None:
        """Arms a teach (None: none). The reader's point is told while one waits there (`teach_wait`: the
        CHARX RFID/NFC board shows "Waiting for RFID card to add/delete")."""
        old, self.teach = self.teach, teach
        for reader, on in ((old.reader if old else "", False), (teach.reader if teach else "", True)):
            if reader and (on or teach is None or teach.reader != reader):
                try:
                    await self.ops.command(reader, "teach_wait", on)
                except pointops.CommandError as e:
                    log.warning("teach_wait %s at %s: %s", on, reader, e.reason)
        self._announce()

    # ---- the decision ----------------------------------------------------------------------------

    def index(self) -> whitelist.Index:
        version = self.store.versions()["whitelist"]
        if self._index is None or version != self._index_version:
            self._index = whitelist.Index(self.store.get("whitelist"))
            self._index_version = version
        return self._index

    def served_by(self, reader: str) -> list[tuple[str, str]]:
        """(point, release mode) of the configured points that use the reader at `reader`."""
        points: dict[str, dict[str, Any]] = self.store.get("chargepoint")
        return [
            (uid, str(cfg["release_mode"]))
            for uid, cfg in sorted(points.items())
            if (cfg.get("rfid_reader") or uid) == reader
        ]

    async def card(self, reader: str, raw_tag: str) -> None:
        """Decides on a card read at `reader`. The reader's point reports Authorization Request ongoing
        until it hears the decision: the verdict when it is the point the card is for, a teach result,
        or else `rfid_decided` (with what its board shows); a reader whose point is in release mode OCPP
        hears it from the OCPP service."""
        tag = whitelist.normal(raw_tag)
        shown = await self._decide(reader, tag)
        if shown is None:
            return
        try:
            await self.ops.command(reader, "rfid_decided", shown)
        except pointops.CommandError as e:  # the module ends it on its own after its wait
            log.warning(
                "card %s at %s: the reader's point was not told the decision: %s", tag, reader, e.reason
            )

    async def _decide(self, reader: str, tag: str) -> str | None:
        """The decision; what the reader's point is still to be told (`rfid_decided`), None if nothing."""
        started = time.perf_counter()
        teach = self.teach
        if teach is not None and teach.until <= self.clock():
            await self.arm(None)
        elif teach is not None and teach.reader == reader:
            await self.arm(None)
            await self._teach(teach, tag)
            return None
        served = self.served_by(reader)
        points = [uid for uid, mode in served if mode == "whitelist"]
        if not points:
            self._record(tag, reader, "no point in release mode whitelist uses this reader")
            return None if (reader, "ocpp") in served else "none"
        ended = await self._end_if_same_card(tag, points)
        if ended:
            self._record(tag, reader, "session ended at %s (same card again)" % ended)
            return "none"
        target = self._target(points)
        if target is None:
            self._record(tag, reader, "every point of this reader is released already")
            return "none"
        why = self.index().refusal(tag, self.clock())
        try:
            await self.ops.command(target, "rfid", [tag, not why])  # the bus carries lists, not dicts
        except pointops.CommandError as e:
            self._record(tag, reader, "%s: not answered (%s)" % (target, e.reason))
            return None if target == reader else "none"
        finally:
            self.decisions_s.append(time.perf_counter() - started)
        if not why:
            self.released_by[target] = (tag, self.clock())
        self._record(tag, reader, "released %s" % target if not why else "denied: %s" % why)
        if target == reader:
            return None
        return "accepted" if not why else "denied"

    def _target(self, points: list[str]) -> str | None:
        free = [uid for uid in points if not self.live(uid).get("release")]
        plugged = [uid for uid in free if self.live(uid).get("status") in PLUGGED]
        chosen = plugged or free
        return chosen[0] if chosen else None

    async def _end_if_same_card(self, tag: str, points: list[str]) -> str:
        if not self.store.get("ocpp")["PresentingRFIDEndCharging"]:
            return ""
        for uid in points:
            by, at = self.released_by.get(uid, ("", 0.0))
            # The live sample may predate the release it gave (the agent polls): a fresh one counts as held.
            if by == tag and (self.live(uid).get("release") or self.clock() - at < LIVE_LAG_S):
                try:
                    await self.ops.command(uid, "enforce_unlock", True)
                except pointops.CommandError as e:
                    log.warning("ending the session of %s for card %s: %s", uid, tag, e.reason)
                    return ""
                del self.released_by[uid]
                return uid
        return ""

    async def _teach(self, teach: Teach, tag: str) -> None:
        result, verdict = "in_failed", ""
        present = self.store.get("whitelist", tag) is not None
        if teach.mode == "out" and present:
            self.store.delete("whitelist", tag)
            result, verdict = "out_ok", "taught out"
        elif teach.mode == "out":
            verdict = "teach-out failed: not on the whitelist"
        else:
            try:
                if not present:
                    self.store.put("whitelist", {"type": "rfid"}, tag)
                result, verdict = "in_ok", "taught in"
            except chargeschema.Invalid as e:
                verdict = "teach-in failed: %s" % "; ".join(sorted(e.errors.values()))
        try:
            await self.ops.command(teach.reader, "teach", result)
        except pointops.CommandError as e:
            verdict += " (the point was not told: %s)" % e.reason
        self._record(tag, teach.reader, verdict)

    # ---- what the WBM sees -----------------------------------------------------------------------

    def _record(self, tag: str, reader: str, verdict: str) -> None:
        self.recent.add(tag, reader, verdict, self.clock())
        log.info("card %s at %s: %s", tag, reader, verdict)
        self._announce()

    def state(self) -> dict[str, Any]:
        teach = self.teach if self.teach is not None and self.teach.until > self.clock() else None
        return {"scans": self.recent.view(), "teach": teach.view() if teach else None}

    def _announce(self) -> None:
        self.publish(topics.RFID_RECENT, json.dumps(self.state()))
