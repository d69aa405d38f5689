"""Simulated multi-drop backplane on loopback: half-duplex, a bit rate, and fault injection.

Every station (the head at address 0, modules at 1..12) connects over TCP, says `P<address>\\n` once and
then streams SLIP-framed bytes. The medium carries one frame at a time: a frame occupies the line for
its air time (10 bits per byte at the bit rate) after the previous one ends, then arrives at its
addressee (or everyone for a broadcast). Addressing is done here, like a transceiver's address filter,
so the other modules' processes do not burn CPU on frames that are not theirs. Faults are drawn per
frame: drop, corrupt (one bit flipped), delay (arrives late), duplicate (arrives twice); an unplugged
station neither sends nor receives.

The medium runs on an event loop over select(2) (`precise_loop`): epoll waits in whole milliseconds,
which would add up to 1 ms to every frame's air time at 1 Mbit/s. `MediumThread` runs it beside the
head's own loop; standalone: `python -m chargepark.bus.medium --port 7700 --bitrate 1000000 --drop 0.01`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import selectors
import threading
from dataclasses import dataclass, field

END = 0xC0
BROADCAST = 255
MAX_BUFFER = 4096


@dataclass
class Faults:
    """Per-frame fault rates (0..1) and the extra latency of a delayed frame."""

    drop: float = 0.0
    corrupt: float = 0.0
    delay: float = 0.0
    duplicate: float = 0.0
    delay_s: float = 0.005


@dataclass
class MediumCounters:
    frames: int = 0
    bytes: int = 0
    waited: int = 0  # a talker found the line busy and queued behind the current frame
    dropped: int = 0
    corrupted: int = 0
    delayed: int = 0
    duplicated: int = 0
    undeliverable: int = 0  # addressee absent or unplugged
    by_address: dict[int, int] = field(default_factory=dict)


class SimMedium:
    def __init__(
        self,
        bitrate: int = 1_000_000,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
    ) -> None:
        self.bitrate = bitrate
        self.faults = faults or Faults()
        self.host = host
        self.port = port
        self.rng = random.Random(seed)
        self.counters = MediumCounters()
        self.stations: dict[int, asyncio.Transport] = {}
        self.unplugged: set[int] = set()
        self.free_at = 0.0
        self._server: asyncio.Server | None = None
        self._changed = threading.Condition()
        self._connections: set[_Station] = set()
        self._all_closed = asyncio.Event()

    @property
    def endpoint(self) -> str:
        return "%s:%d" % (self.host, self.port)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Station(self), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server:
            self._server.close()
        for station in list(self._connections):
            station.transport.close()  # connection_lost then ends each station
        if self._connections:
            self._all_closed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._all_closed.wait()
        if self._server:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def wait_for(self, addresses: set[int], timeout: float = 30.0) -> bool:
        """Block (from another thread) until every address in `addresses` is connected."""
        with self._changed:
            return self._changed.wait_for(lambda: addresses <= set(self.stations), timeout)

    def unplug(self, address: int) -> None:
        self.unplugged.add(address)

    def plug(self, address: int) -> None:
        self.unplugged.discard(address)

    def air_time(self, nbytes: int) -> float:
        return nbytes * 10 / self.bitrate  # start + 8 data + stop bit

    def _joined(self, address: int, transport: asyncio.Transport) -> None:
        old = self.stations.get(address)
        if old is not None:
            old.close()  # a restarted module replaces its old connection
        with self._changed:
            self.stations[address] = transport
            self._changed.notify_all()

    def _left(self, station: _Station) -> None:
        with self._changed:
            if self.stations.get(station.address) is station.transport:
                del self.stations[station.address]
        self._connections.discard(station)
        if not self._connections:
            self._all_closed.set()

    def _transmit(self, talker: int, body: bytes) -> None:
        """Put one frame on the line: after the current one, for its air time, then apply faults."""
        if talker in self.unplugged:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        c = self.counters
        c.frames += 1
        c.bytes += len(body) + 2
        c.by_address[talker] = c.by_address.get(talker, 0) + 1
        if self.free_at > now:
            c.waited += 1
        start = max(now, self.free_at)
        self.free_at = start + self.air_time(len(body) + 2)
        f = self.faults
        rng = self.rng
        if f.drop and rng.random() < f.drop:
            c.dropped += 1
            return
        if f.corrupt and rng.random() < f.corrupt:
            c.corrupted += 1
            flipped = bytearray(body)
            i = rng.randrange(len(flipped))
            flipped[i] ^= 1 << rng.randrange(8)
            body = bytes(flipped)
        at = self.free_at
        if f.delay and rng.random() < f.delay:
            c.delayed += 1
            at += f.delay_s
        data = b"\xc0" + body + b"\xc0"
        loop.call_at(at, self._deliver, talker, data)
        if f.duplicate and rng.random() < f.duplicate:
            c.duplicated += 1
            loop.call_at(at + self.air_time(len(data)), self._deliver, talker, data)

    def _deliver(self, talker: int, data: bytes) -> None:
        dst = data[2] if len(data) > 2 else -1  # END, version, destination (never escaped)
        targets = (
            [a for a in self.stations if a != talker]
            if dst == BROADCAST
            else [dst]
            if dst in self.stations
            else []
        )
        delivered = False
        for address in targets:
            if address in self.unplugged:
                continue
            transport = self.stations.get(address)
            if transport is not None and not transport.is_closing():
                transport.write(data)
                delivered = True
        if not delivered:
            self.counters.undeliverable += 1


class _Station(asyncio.Protocol):
    """One station's connection: the hello line, then frames straight into the medium as bytes arrive.

    A protocol rather than a stream reader: each chunk is split and put on the line in the callback that
    received it, without waking a reader task first (one event-loop pass less per frame).
    """

    def __init__(self, medium: SimMedium) -> None:
        self.medium = medium
        self.address = -1
        self.pending = b""
        self.transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.medium._connections.add(self)

    def data_received(self, data: bytes) -> None:
        pending = self.pending + data
        if self.address < 0:
            hello, newline, pending = pending.partition(b"\n")
            if not newline:
                self.pending = hello[:MAX_BUFFER]
                return
            try:
                if not hello.startswith(b"P"):
                    raise ValueError(hello)
                self.address = int(hello[1:])
            except ValueError:
                self.transport.close()
                return
            self.medium._joined(self.address, self.transport)
        *frames, pending = pending.split(b"\xc0")
        self.pending = pending if len(pending) <= MAX_BUFFER else b""
        for body in frames:
            if body:
                self.medium._transmit(self.address, body)

    def connection_lost(self, exc: Exception | None) -> None:
        self.medium._left(self)


def precise_loop() -> asyncio.AbstractEventLoop:
    """An event loop whose timers fire within microseconds (select(2) instead of epoll)."""
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


class MediumThread:
    """A SimMedium on its own precise loop in a daemon thread, for a head that runs in this process."""

    def __init__(self, medium: SimMedium) -> None:
        self.medium = medium
        self.loop = precise_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bus-medium", daemon=True)

    def start(self) -> SimMedium:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.medium.start(), self.loop).result(10)
        return self.medium

    def stop(self) -> None:
        if self._thread.is_alive():  # also called after a start that never happened (a failed setup)
            asyncio.run_coroutine_threadsafe(self.medium.close(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
        self.loop.close()


async def _serve(args: argparse.Namespace) -> None:
    faults = Faults(drop=args.drop, corrupt=args.corrupt, delay=args.delay, duplicate=args.duplicate)
    medium = SimMedium(args.bitrate, faults, args.host, args.port)
    await medium.start()
    print("MEDIUM %s" % medium.endpoint, flush=True)
    await asyncio.Event().wait()


def main() -> None:
    p = argparse.ArgumentParser(description="simulated backplane bus medium")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--bitrate", type=int, default=1_000_000)
    for name in ("drop", "corrupt", "delay", "duplicate"):
        p.add_argument("--" + name, type=float, default=0.0, help="rate of %s frames (0..1)" % name)
    loop = precise_loop()
    with contextlib.suppress(KeyboardInterrupt):
        loop.run_until_complete(_serve(p.parse_args()))


if __name__ == "__main__":
    main()
