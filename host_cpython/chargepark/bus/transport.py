"""Head-side transports: raw frames in a queue, whole frames out.

`SimTransport` joins the simulated medium over loopback; `SerialTransport` drives a real RS-485 port with
pyserial (kernel RS-485 direction control when the adapter needs it). Both deliver every SLIP-delimited
chunk, still unchecked, to `frames`; the agent checks CRC and addressing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Protocol

from backplane import frame


class Transport(Protocol):
    frames: asyncio.Queue[bytes]

    @property
    def overruns(self) -> int: ...

    async def send(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class SimTransport(asyncio.Protocol):
    """The head's station on the simulated medium (address 0).

    A protocol, not a stream reader: received bytes are deframed in the callback that got them and the
    frames go straight to the waiting agent (no reader task to wake in between).
    """

    def __init__(self) -> None:
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self._deframer = frame.Deframer()
        self._transport: asyncio.Transport | None = None

    @property
    def overruns(self) -> int:
        return int(self._deframer.overruns)

    @classmethod
    async def connect(cls, endpoint: str, address: int = frame.HEAD) -> SimTransport:
        host, port = endpoint.rsplit(":", 1)
        self = cls()
        await asyncio.get_running_loop().create_connection(lambda: self, host, int(port))
        assert self._transport is not None
        self._transport.write(b"P%d\n" % address)
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        for raw in self._deframer.feed(data):
            self.frames.put_nowait(raw)

    async def send(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    async def close(self) -> None:
        if self._transport:
            self._transport.close()


class SerialTransport:
    """A serial port (RS-485 adapter); reads run in a thread that hands frames to the event loop."""

    def __init__(self, port: str, baudrate: int = 1_000_000, rs485: bool = False) -> None:
        import serial  # pyserial: only the real-bus head needs it loaded
        import serial.rs485

        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self._deframer = frame.Deframer()
        # serial_for_url: a device path, or a pyserial URL such as loop:// (tests) or rfc2217://host:port.
        self._serial = serial.serial_for_url(port, baudrate, timeout=0.05)
        if rs485:
            # The kernel raises RTS (driver enable) while sending and drops it after the last bit.
            self._serial.rs485_mode = serial.rs485.RS485Settings()
        self._loop = asyncio.get_running_loop()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="bus-serial", daemon=True)
        self._thread.start()

    @property
    def overruns(self) -> int:
        return int(self._deframer.overruns)

    def _read(self) -> None:
        while not self._stop.is_set():
            data = self._serial.read(max(1, self._serial.in_waiting))
            if data:
                for raw in self._deframer.feed(data):
                    self._loop.call_soon_threadsafe(self.frames.put_nowait, raw)

    async def send(self, data: bytes) -> None:
        await asyncio.to_thread(self._serial.write, data)

    async def close(self) -> None:
        self._stop.set()
        await asyncio.to_thread(self._thread.join)
        with contextlib.suppress(OSError):
            self._serial.close()
