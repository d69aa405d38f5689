"""Simulated energy meters: a pymodbus server that serves one register map of `iomodule.meters` with a
reading in the point's units (the plant model's), on an RTU line (one end of a pty pair) or on Modbus/TCP.

The registers come from `meters.encode`, the inverse of what the firmware's driver decodes, so the simulated
park's meters speak each type's own map, with their identification registers (`meters.encode_ident`: serial
number and firmware version where the type has them); functions 03 and 04 read the same registers (as most
meters). A point whose line carries a load circuit's higher-level meter (the module's `higher_meter`) gets a
second meter on the same line at unit 2, which sees the building load (sim-control `set building_a`) and the
whole simulated park's draw.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Sequence
from typing import Any

from iomodule import meters
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


class MeterImage:
    """The registers of one meter (every register of its map's blocks) showing the latest reading; a
    read answers what `show` last set."""

    def __init__(
        self, meter_map: dict[str, Any], unit: int = 1, serial: str = "", firmware: str = "1.0.0"
    ) -> None:
        self.meter_map = meter_map
        self.unit = unit
        self.ident = meters.encode_ident(meter_map, serial, firmware)
        self.words: dict[int, int] = dict(self.ident)
        self.failing = False  # answer every request with exception 0x0B (gateway target failed to respond)
        self.reads = 0  # requests answered (tests, diagnostics)
        spans = [*meter_map["blocks"], *((reg, n) for _which, reg, n, _kind in meter_map.get("ident", ()))]
        blocks = [SimData(start, values=[0] * n, datatype=DataType.REGISTERS) for start, n in sorted(spans)]
        self.device = SimDevice(id=unit, simdata=blocks, action=self._on_access)

    def show(self, reading: Sequence[int]) -> None:
        """Show a reading (meters.SLOTS values: mV, mA, mW, Wh, permille, mHz)."""
        self.words = {**self.ident, **meters.encode(self.meter_map, list(reading))}

    async def _on_access(
        self,
        function: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if values is not None:
            return ExcCodes.ILLEGAL_FUNCTION  # a meter's measurements are read-only
        if self.failing:
            return ExcCodes.GATEWAY_NO_RESPONSE
        words = self.words
        for a in range(address, address + count):
            registers[a - start] = words.get(a, 0)
        self.reads += 1
        return None


_SERVING: set[asyncio.Task[None]] = set()  # the servers' serve_forever tasks, until they end


def _serve(server: ModbusSerialServer | ModbusTcpServer) -> None:
    task = asyncio.ensure_future(server.serve_forever())
    _SERVING.add(task)
    task.add_done_callback(_SERVING.discard)


def rtu_line() -> tuple[int, int, str]:
    """A pty pair in raw mode: (the master end's fd, non-blocking, for the driver; the slave end's fd and
    path for the server, which opens it by name). The caller keeps both fds open while the line is in use
    (without an open slave end the master's reads fail) and closes them."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    os.set_blocking(master, False)
    return master, slave, os.ttyname(slave)


async def serve_rtu(
    image: MeterImage | Sequence[MeterImage], port_name: str, baud: int = 19200
) -> ModbusSerialServer:
    """Start an RTU server for `image` (or several on one line, each at its unit) on a serial port (a
    pty's slave end); stop with `shutdown()`."""
    images = [image] if isinstance(image, MeterImage) else list(image)
    server = ModbusSerialServer([i.device for i in images], port=port_name, baudrate=baud)
    _serve(server)
    await asyncio.sleep(0.2)  # the port is open
    return server


async def serve_tcp(image: MeterImage, host: str, port: int) -> ModbusTcpServer:
    """Start a Modbus/TCP server for `image`; stop with `shutdown()`."""
    server = ModbusTcpServer(image.device, address=(host, port))
    _serve(server)
    await asyncio.sleep(0.1)
    return server


def building_reading(base: Sequence[int], park: Sequence[Sequence[int]], building_a: int) -> list[int]:
    """What a higher-level meter over the building and the park reads: the park's currents, power and
    energy summed, plus the building's `building_a` on each phase; voltages, power factor and frequency
    from `base` (the reading of the point on whose line it sits)."""
    out = list(base)
    building_ma = building_a * 1000
    for slot in (meters.I1, meters.I2, meters.I3):
        out[slot] = building_ma + sum(r[slot] for r in park)
    out[meters.POWER] = sum(r[meters.POWER] for r in park) + sum(
        building_ma * base[u] // 1000 for u in (meters.U1, meters.U2, meters.U3)
    )
    out[meters.ENERGY] = sum(r[meters.ENERGY] for r in park)
    return out


class PointMeter:
    """The meter line of one simulated charging point: an RTU server on a pty pair whose other end (`fd`)
    the module inherits (`--meter-line FD`), serving the point's configured type with the plant's reading
    at unit 1 and, while the module reads a load circuit's higher-level meter there, a second meter of the
    same type at unit 2 (`building_reading` over `park`, every simulated point's last reading by
    position), both taken from the module's sim-control `state` every `period_s`. While the plant's
    `meter_comm` fault is on, or the module does not answer, the meters answer every request with exception
    0x0B (the target failed to respond), so the point sees its meter fail; the higher-level meter alone fails
    while the plant's `higher_meter_comm` fault is on."""

    def __init__(
        self,
        baud: int = 19200,
        period_s: float = 0.2,
        position: int = 1,
        park: dict[int, list[int]] | None = None,
    ) -> None:
        self.fd, self._slave, self.path = rtu_line()
        self.baud = baud
        self.period_s = period_s
        self.position = position
        self.park = park if park is not None else {}
        self.image: MeterImage | None = None
        self.higher: MeterImage | None = None
        self.server: ModbusSerialServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, endpoint: str) -> None:
        self._task = asyncio.create_task(self._follow(endpoint))

    async def _follow(self, endpoint: str) -> None:
        from chargepark.simctl import request

        while True:
            try:
                meter = (await asyncio.to_thread(request, endpoint, {"cmd": "state"}, 2.0))["meter"]
            except (OSError, ConnectionError, ValueError, KeyError):
                meter = None
            if meter is not None and meter["type"] in meters.MAPS:
                await self._serve(meter["type"], meter.get("higher") in meters.MAPS)
            answers = meter is not None and bool(meter["answers"])
            if meter is not None and answers:
                self.park[self.position] = list(meter["reading"])
            if self.image is not None:
                self.image.failing = not answers
            if self.higher is not None:
                self.higher.failing = not answers or not meter.get("higher_answers", True)
            if meter is not None and answers and self.image is not None:
                self.image.show(meter["reading"])
                if self.higher is not None:
                    self.higher.show(building_reading(meter["reading"], list(self.park.values()),
                                                      int(meter.get("building_a", 0))))  # fmt: skip
            await asyncio.sleep(self.period_s)

    async def _serve(self, meter_type: str, higher: bool) -> None:
        mp = meters.MAPS[meter_type]
        if self.image is not None and self.image.meter_map is mp and (self.higher is not None) == higher:
            return
        if self.server is not None:
            await self.server.shutdown()  # type: ignore[no-untyped-call]
        self.image = MeterImage(mp, unit=1, serial="%d0001" % self.position)
        self.higher = MeterImage(mp, unit=2, serial="%d0002" % self.position) if higher else None
        images = [self.image] if self.higher is None else [self.image, self.higher]
        self.server = await serve_rtu(images, self.path, self.baud)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.server is not None:
            await self.server.shutdown()  # type: ignore[no-untyped-call]
        os.close(self.fd)
        os.close(self._slave)
