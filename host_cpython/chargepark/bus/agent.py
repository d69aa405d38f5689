"""The head's bus master: discovery, configuration, polling, commands, online/offline, counters.

One exchange is on the bus at a time (half-duplex): a request goes out and the agent waits for the
addressed module's answer with the same sequence number, retrying the very same frame on a timeout.
The module answers a repeated frame from its cache, so a retry never applies a command twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pointconfig
from backplane import catalog, frame

from chargepark.bus.transport import Transport

Listener = Callable[[str, int, Any], None]
log = logging.getLogger(__name__)


class BusError(Exception):
    """An exchange failed: `position` and a reason."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__("position %d: %s" % (position, reason))
        self.position = position
        self.reason = reason


class BusTimeout(BusError):
    """No valid answer after all retries."""


class BusRefused(BusError):
    """The module answered with an ERROR (the reason is the module's)."""


# The counters a point's live message carries (the WBM status page's "Bus counters"), in this order.
BUS_COUNTERS = ("frames_tx", "frames_rx", "crc_errors", "timeouts", "retries", "failures")


@dataclass
class Counters:
    """Per-module link counters (the WBM's "Local Bus State")."""

    requests: int = 0
    frames_tx: int = 0
    frames_rx: int = 0
    crc_errors: int = 0
    timeouts: int = 0
    retries: int = 0
    failures: int = 0  # requests that failed after all retries
    refused: int = 0
    stale: int = 0  # valid frames that were not the awaited answer (late or duplicated)
    offline_transitions: int = 0
    resets_seen: int = 0
    config_pushes: int = 0

    def summary(self) -> list[int]:
        """The BUS_COUNTERS values, as the live message carries them to the status page."""
        return [getattr(self, name) for name in BUS_COUNTERS]


@dataclass
class Module:
    """What the head knows about the module at one position."""

    position: int
    online: bool = False
    compatible: bool = False
    identity: dict[str, Any] = field(default_factory=dict)
    boot_id: int | None = None
    live: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] | None = None  # desired module fields
    config_checksum: int | None = None
    config_refused: str = ""  # the module's reason for refusing the desired config
    event_ack: int = 0
    missed: int = 0
    seq: int = field(default_factory=lambda: secrets.randbelow(256))
    counters: Counters = field(default_factory=Counters)


class ControllerAgent:
    """Bus master over one transport for positions 1..12 (asyncio)."""

    def __init__(
        self,
        transport: Transport,
        positions: Iterable[int] = range(1, frame.MAX_POSITION + 1),
        *,
        timeout: float = 0.03,
        retries: int = 2,
        poll_interval: float = 0.1,
        offline_after: int = 3,
    ) -> None:
        self.transport = transport
        self.modules = {p: Module(p) for p in positions}
        self.timeout = timeout
        self.retries = retries
        self.poll_interval = poll_interval
        self.offline_after = offline_after
        self.listeners: list[Listener] = []
        self.cycles = 0
        self.last_cycle_s = 0.0
        self._bus = asyncio.Lock()
        self._bseq = secrets.randbelow(256)
        self._task: asyncio.Task[None] | None = None
        self._discover_next = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Discover every position once, then poll in the background."""
        await self.discover()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def subscribe(self, listener: Listener) -> None:
        """`listener(kind, position, data)`; kinds: online, offline, identity, live, event, config."""
        self.listeners.append(listener)

    def _emit(self, kind: str, position: int, data: Any) -> None:
        for listener in self.listeners:
            try:
                listener(kind, position, data)
            except Exception:  # a subscriber's bug must not stop the bus master
                log.exception("bus listener failed on %s from position %d", kind, position)

    # -- exchanges ---------------------------------------------------------------------------------

    async def request(self, position: int, mtype: int, *fields: Any, retries: int | None = None) -> list[Any]:
        """Send one request and return the answer's fields; BusTimeout / BusRefused otherwise."""
        m = self.modules[position]
        c = m.counters
        payload = catalog.pack(mtype, *fields)
        c.requests += 1
        tries = 1 + (self.retries if retries is None else retries)
        async with self._bus:
            m.seq = (m.seq + 1) & 0xFF  # under the lock: the awaited answer carries exactly this number
            data = frame.encode(position, frame.HEAD, m.seq, mtype, payload)
            for attempt in range(tries):
                if attempt:
                    c.retries += 1
                await self.transport.send(data)
                c.frames_tx += 1
                answer = await self._await_answer(m, mtype)
                if answer is not None:
                    return answer
                c.timeouts += 1
        c.failures += 1
        raise BusTimeout(position, "no answer to %s" % catalog.name_of(mtype))

    async def _await_answer(self, m: Module, mtype: int) -> list[Any] | None:
        queue = self.transport.frames
        c = m.counters
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                # asyncio.timeout, not wait_for: wait_for (3.11) can swallow a cancel that races an answer.
                async with asyncio.timeout(remaining):
                    raw = await queue.get()
            except TimeoutError:
                return None
            try:
                dst, src, seq, rtype, payload = frame.decode(raw)
            except frame.FrameError:
                c.crc_errors += 1  # while waiting for this module: most likely its answer, damaged
                continue
            if dst != frame.HEAD or src != m.position or seq != m.seq:
                c.stale += 1
                continue
            c.frames_rx += 1
            try:
                if rtype == catalog.ERROR:
                    _, reason = catalog.unpack(rtype, payload)
                    c.refused += 1
                    raise BusRefused(m.position, str(reason))
                if rtype != mtype | catalog.RESPONSE:
                    raise ValueError("answer %s to %s" % (catalog.name_of(rtype), catalog.name_of(mtype)))
                return list(catalog.unpack(rtype, payload))
            except ValueError:
                c.stale += 1

    async def broadcast(self, name: str, value: Any = None) -> None:
        """A command to every module at once (no answers; sent twice, duplicates are dropped)."""
        self._bseq = (self._bseq + 1) & 0xFF
        payload = catalog.pack(catalog.COMMAND, name, value)
        data = frame.encode(frame.BROADCAST, frame.HEAD, self._bseq, catalog.COMMAND, payload)
        async with self._bus:
            for _ in range(2):
                await self.transport.send(data)

    # -- module operations ---------------------------------------------------------------------------

    async def identify(self, position: int, retries: int | None = None) -> dict[str, Any]:
        names = catalog.MESSAGES[catalog.IDENTIFY | catalog.RESPONSE][1]
        ident = dict(zip(names, await self.request(position, catalog.IDENTIFY, retries=retries), strict=True))
        m = self.modules[position]
        m.identity = ident
        m.compatible = ident["catalog"] == catalog.CATALOG_HASH
        if m.boot_id is not None and m.boot_id != ident["boot_id"]:
            m.counters.resets_seen += 1
        if m.boot_id != ident["boot_id"]:
            m.event_ack = 0
        m.boot_id = ident["boot_id"]
        if ident["seq"] >= 0:
            m.seq = ident["seq"]  # continue after the module's last request (it ignores older numbers)
        m.missed = 0
        self._emit("identity", position, ident)
        if not m.online:
            m.online = True
            self._emit("online", position, ident)
        if m.compatible and m.config is not None:
            await self._push_config(m)
        return ident

    async def discover(self) -> list[int]:
        """Identify every position once; returns the positions that answered."""
        found = []
        for position in self.modules:
            with contextlib.suppress(BusError):
                await self.identify(position, retries=0)
                found.append(position)
        return found

    async def configure(self, position: int, cfg: dict[str, Any]) -> tuple[int, int]:
        """Make `cfg` (a full point configuration or its module fields) the module's configuration.

        Kept as the desired configuration and pushed again whenever the module resets or reports another
        checksum. Returns the module's (config_version, checksum); BusRefused carries its reasons.
        """
        m = self.modules[position]
        m.config = pointconfig.module_part(cfg)
        m.config_checksum = pointconfig.checksum(m.config)
        m.config_refused = ""
        return await self._push_config(m)

    async def _push_config(self, m: Module) -> tuple[int, int]:
        assert m.config is not None and m.config_checksum is not None
        m.counters.config_pushes += 1
        try:
            version, checksum = await self.request(
                m.position, catalog.CONFIG, m.config_checksum, catalog.config_to_wire(m.config)
            )
        except BusRefused as e:
            m.config_refused = e.reason
            raise
        self._emit("config", m.position, {"version": version, "checksum": checksum})
        return version, checksum

    async def unconfigure(self, position: int) -> None:
        """Forget the desired configuration; the module returns to its factory face (docs/point-api.md)."""
        m = self.modules[position]
        m.config = None
        m.config_checksum = None
        await self.command(position, "unconfigure")

    async def command(self, position: int, name: str, value: Any = None) -> None:
        """One point command (docs/point-api.md); returns once the module applied it."""
        await self.request(position, catalog.COMMAND, name, value)

    async def diagnostics(self, position: int) -> dict[str, int]:
        names = catalog.MESSAGES[catalog.DIAG | catalog.RESPONSE][1]
        return dict(zip(names, await self.request(position, catalog.DIAG), strict=True))

    def counters(self, position: int) -> dict[str, Any]:
        m = self.modules[position]
        return {"online": m.online, **vars(m.counters)}

    # -- polling -------------------------------------------------------------------------------------

    async def poll(self, position: int) -> dict[str, int]:
        """One live-state exchange: events are delivered and acknowledged, drift is repaired."""
        m = self.modules[position]
        try:
            boot_id, events, record = await self.request(position, catalog.POLL, m.boot_id or 0, m.event_ack)
        except BusTimeout:
            m.missed += 1
            if m.online and m.missed >= self.offline_after:
                m.online = False
                m.counters.offline_transitions += 1
                self._emit("offline", position, None)
            raise
        m.missed = 0
        if boot_id != m.boot_id:  # the module restarted since we identified it
            await self.identify(position)
            return m.live
        for seq, code, arg in events:
            if seq > m.event_ack:
                m.event_ack = seq
                self._emit("event", position, (code, arg))
        m.live = catalog.live_unpack(record)
        self._emit("live", position, m.live)
        if (
            m.config is not None
            and not m.config_refused
            and m.live.get("config_checksum") != m.config_checksum
        ):
            await self._push_config(m)
        return m.live

    async def cycle(self) -> None:
        """Poll every online module once and try one absent position (discovery round robin)."""
        start = time.perf_counter()
        for m in self.modules.values():
            if m.online and m.compatible:
                with contextlib.suppress(BusError):
                    await self.poll(m.position)
        absent = [m for m in self.modules.values() if not m.online or not m.compatible]
        if absent:
            m = absent[self._discover_next % len(absent)]
            self._discover_next += 1
            with contextlib.suppress(BusError):
                await self.identify(m.position, retries=0)
        self.cycles += 1
        self.last_cycle_s = time.perf_counter() - start

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await self.cycle()
            await asyncio.sleep(max(0.0, start + self.poll_interval - loop.time()))
