"""The simulated medium: half-duplex at its bit rate, addressing, broadcast and each injected fault."""

from __future__ import annotations

import asyncio
import time

import pytest
from backplane import catalog, frame
from chargepark.bus.medium import Faults, MediumThread, SimMedium


class Station:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.deframer = frame.Deframer()

    @classmethod
    async def join(cls, medium: SimMedium, address: int) -> Station:
        reader, writer = await asyncio.open_connection("127.0.0.1", medium.port)
        writer.write(b"P%d\n" % address)
        return cls(reader, writer)

    async def frames(self, timeout: float = 0.5) -> list[bytes]:
        """Every raw frame that arrives until the line stays quiet for `timeout`."""
        got: list[bytes] = []
        while True:
            try:
                data = await asyncio.wait_for(self.reader.read(4096), timeout)
            except TimeoutError:
                return got
            got += self.deframer.feed(data)


def wire(dst: int, src: int, size: int = 100) -> bytes:
    return frame.encode(dst, src, 1, catalog.DIAG, b"x" * (size - 11))


def run(faults: Faults, scenario, bitrate: int = 1_000_000):  # type: ignore[no-untyped-def]
    thread = MediumThread(SimMedium(bitrate=bitrate, faults=faults, seed=1))
    medium = thread.start()
    try:
        return asyncio.run(scenario(medium))
    finally:
        thread.stop()


def test_one_talker_at_a_time_at_the_bit_rate():
    async def scenario(medium: SimMedium) -> tuple[float, float, int]:
        a, b, c = [await Station.join(medium, n) for n in (0, 1, 2)]
        medium.wait_for({0, 1, 2})
        start = time.perf_counter()
        a.writer.write(wire(1, 0))  # both talk at once: the second waits for the line
        c.writer.write(wire(1, 2))
        times: list[float] = []
        while len(times) < 2:
            for _ in b.deframer.feed(await b.reader.read(4096)):
                times.append(time.perf_counter() - start)
        first, second = times
        return first, second, medium.counters.waited

    first, second, waited = run(Faults(), scenario, bitrate=10_000)
    air = len(wire(1, 0)) * 10 / 10_000  # every byte on the line (END included), 10 bits each
    assert first >= air and second >= 2 * air and waited == 1


def test_addressing_broadcast_unplug():
    async def scenario(medium: SimMedium) -> list[int]:
        head, m1, m2 = [await Station.join(medium, n) for n in (0, 1, 2)]
        medium.wait_for({0, 1, 2})
        head.writer.write(wire(2, 0) + wire(frame.BROADCAST, 0))
        medium.unplug(1)
        m1.writer.write(wire(0, 1))  # an unplugged module is not heard
        got = [len(await s.frames(0.3)) for s in (head, m1, m2)]
        medium.plug(1)
        return got

    # m1 was unplugged before the broadcast reached it; m2 got its frame and the broadcast.
    assert run(Faults(), scenario) == [0, 0, 2]


@pytest.mark.parametrize(
    "faults,expect",
    [
        (Faults(drop=1.0), "dropped"),
        (Faults(corrupt=1.0), "corrupted"),
        (Faults(duplicate=1.0), "duplicated"),
        (Faults(delay=1.0, delay_s=0.2), "delayed"),
    ],
)
def test_faults(faults: Faults, expect: str):
    async def scenario(medium: SimMedium) -> tuple[list[bytes], float, int]:
        head, m1 = [await Station.join(medium, n) for n in (0, 1)]
        medium.wait_for({0, 1})
        start = time.perf_counter()
        head.writer.write(wire(1, 0))
        got = await m1.frames(0.4)
        return got, time.perf_counter() - start, getattr(medium.counters, expect)

    got, _, count = run(faults, scenario)
    assert count == 1
    if expect == "dropped":
        assert got == []
    elif expect == "corrupted":
        with pytest.raises(frame.FrameError):
            for raw in got:  # a flipped END splits the frame: every piece is refused
                frame.decode(raw)
    elif expect == "duplicated":
        assert len(got) == 2 and got[0] == got[1]
    else:
        assert len(got) == 1 and frame.decode(got[0])[0] == 1


def test_serial_transport_over_pyserial_loopback():
    """The real-bus transport's framing and thread hand-off, over pyserial's loop:// port."""
    from chargepark.bus.transport import SerialTransport

    async def scenario() -> list[bytes]:
        port = SerialTransport("loop://", 1_000_000)
        frames = [wire(3, 0, 60), wire(4, 0, 300)]
        for f in frames:
            await port.send(f)
        got = [await asyncio.wait_for(port.frames.get(), 2) for _ in frames]
        await port.close()
        return got

    got = asyncio.run(scenario())
    assert [frame.decode(raw)[0] for raw in got] == [3, 4]
