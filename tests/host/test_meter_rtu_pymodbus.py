"""The IO module's Modbus RTU meter driver against a real Modbus peer: a pymodbus RTU server on one end of a
pty pair serves a Carlo Gavazzi EM24 register map, the firmware's driver (run in CPython) talks on the other
end. Proves framing, CRC, exception answers and decoding against an independent implementation, and the
point's error bit 25 when the meter falls silent and its clearing when it answers again."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
import tty
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "firmware"))  # meter_case, simpoint: shared with the firmware tests

import chargedefs as d  # noqa: E402
import meter_case  # noqa: E402
from iomodule import meters  # noqa: E402
from iomodule.meter import MeterDriver  # noqa: E402
from iomodule.modbus_rtu import DONE, EXCEPTION, PENDING, RtuMaster  # noqa: E402

BAUD = 19200
UNIT = 5
# 230.1/230.2/230.3 V, 16/15/0.1 A, 7.36 kW, PF 0.99 lagging, 50.0 Hz, 12345.6 kWh
REGS = meter_case.em24_regs((2301, 2302, 2303), (16000, 15000, 100), 73600, 990, 500, 123456)
EXPECTED = [230100, 230200, 230300, 16000, 15000, 100, 7360000, 12345600, 990, 50000]


class PtyPort:
    """The master end of the pty as an RTU port: non-blocking write/readinto, like machine.UART."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, buf: bytes | bytearray) -> None:
        os.write(self.fd, bytes(buf))

    def readinto(self, buf: bytearray) -> int:
        try:
            data = os.read(self.fd, len(buf))
        except BlockingIOError:
            return 0
        buf[: len(data)] = data
        return len(data)

    # the rest of machine.UART that iomodule.modbus_rtu.UartPort uses
    def any(self) -> int:
        return 1

    def txdone(self) -> bool:
        return True


class MeterServer:
    """A pymodbus RTU server for one EM24 on the slave end of the pty, in its own thread and event loop;
    stop() and start() again to make the meter fall silent and come back."""

    def __init__(self, port_name: str) -> None:
        self.port_name = port_name
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server: ModbusSerialServer | None = None
        self.task: asyncio.Future[None] | None = None

    def start(self, meter_type: str = "em24", regs: dict[int, int] = REGS) -> None:
        blocks = [
            SimData(
                start, values=[regs.get(a, 0) for a in range(start, start + n)], datatype=DataType.REGISTERS
            )
            for start, n in meters.MAPS[meter_type]["blocks"]
        ]
        device = SimDevice(id=UNIT, simdata=blocks)

        async def serve() -> ModbusSerialServer:
            server = ModbusSerialServer(device, port=self.port_name, baudrate=BAUD)
            self.task = asyncio.ensure_future(server.serve_forever())
            await asyncio.sleep(0.2)  # the port is open
            return server

        self.server = asyncio.run_coroutine_threadsafe(serve(), self.loop).result(10)

    def stop(self) -> None:
        assert self.server is not None
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(10)
        self.server = None

    def close(self) -> None:
        if self.server is not None:
            self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def line() -> Iterator[tuple[PtyPort, MeterServer]]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    os.set_blocking(master, False)
    server = MeterServer(os.ttyname(slave))
    server.start()
    yield PtyPort(master), server
    server.close()
    os.close(master)
    os.close(slave)  # held open by the test so the pty survives the server's restarts


def now_ms(t0: float) -> int:
    return int((time.monotonic() - t0) * 1000)


def request(master: RtuMaster, unit: int, function: int, address: int, count: int) -> int:
    t0 = time.monotonic()
    while not master.ready(now_ms(t0)):
        time.sleep(0.005)
    master.start(now_ms(t0), unit, function, address, count)
    while True:
        r: int = master.poll(now_ms(t0))
        if r != PENDING:
            return r
        time.sleep(0.005)


def test_rtu_reads_and_exceptions_against_pymodbus(line: tuple[PtyPort, MeterServer]) -> None:
    port, _server = line
    master = RtuMaster(port, BAUD, timeout_ms=300)
    for function in (3, 4):
        assert request(master, UNIT, function, 0x000C, 6) == DONE
        assert [master.word(i) for i in range(6)] == [REGS[0x000C + i] for i in range(6)]
    assert request(master, UNIT, 4, 0x1000, 2) == EXCEPTION  # outside the served map
    assert master.exception_code == 2  # illegal data address
    assert request(master, UNIT, 4, 0, 2) == DONE  # the line is usable again


def poll_first_reading(drv: MeterDriver) -> list[int]:
    buf = [0] * meters.SLOTS
    t0 = time.monotonic()
    while drv.read(buf) is None and now_ms(t0) < 3000:
        drv.poll(now_ms(t0))
        time.sleep(0.01)
    assert drv.read(buf) is True and drv.failures == 0
    return buf


def test_driver_decodes_the_em24_map_from_pymodbus(line: tuple[PtyPort, MeterServer]) -> None:
    port, _server = line
    drv = MeterDriver(RtuMaster(port, BAUD, 300), meters.MAPS["em24"], unit=UNIT, period_ms=200)
    assert poll_first_reading(drv) == EXPECTED


def test_driver_decodes_float_blocks_of_the_pro380_map_from_pymodbus(
    line: tuple[PtyPort, MeterServer],
) -> None:
    port, server = line
    server.stop()
    server.start("pro380", meter_case.pro380_regs())
    drv = MeterDriver(RtuMaster(port, BAUD, 300), meters.MAPS["pro380"], unit=UNIT, period_ms=200)
    meter_case.check_pro380_values(poll_first_reading(drv))


def fake_machine(port: PtyPort) -> Any:
    """`machine` for MachineHal in CPython: pins and ADCs that read a quiet board, the meter UART on the pty."""

    class Pin:
        OUT = 1
        IN = 0

        def __init__(self, n: int, mode: int | None = None, value: int | None = None) -> None:
            self.n = n

        def value(self, v: int | None = None) -> int:
            return 0

    class ADC:
        def __init__(self, pin: Pin) -> None:
            self.n = pin.n

        def read_u16(self) -> int:
            return 65535  # pilot at +12 V (no vehicle), PP open

    class PWM:
        def __init__(self, pin: Pin, freq: int, duty_u16: int) -> None:
            pass

        def duty_u16(self, v: int) -> None:
            pass

    def uart(uart_id: int, **kw: Any) -> PtyPort:
        assert kw["baudrate"] == BAUD and kw["timeout"] == 0
        return port

    return types.SimpleNamespace(Pin=Pin, ADC=ADC, PWM=PWM, UART=uart)


def test_point_reports_meter_loss_as_bit_25_and_clears_it(
    line: tuple[PtyPort, MeterServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    port, server = line
    board = json.loads((ROOT / "boards" / "rp2040" / "board.json").read_text())
    board["meter"].update(baud=BAUD, address=UNIT, period_ms=200, timeout_ms=150, misses=3)
    monkeypatch.setitem(sys.modules, "machine", fake_machine(port))
    monkeypatch.delitem(sys.modules, "iomodule.machine_hal", raising=False)
    from iomodule.machine_hal import MachineHal
    from iomodule.point import ChargePoint
    from simpoint import FULL

    hal = MachineHal(board)
    point = ChargePoint(board, hal)
    point.configure(dict(FULL, meter_type="em24", rcm_enabled=False))
    assert hal.meter_line.meter is not None
    t0 = time.monotonic()

    def run_until(cond: Any, limit_ms: int) -> int:
        start = now_ms(t0)
        while now_ms(t0) - start < limit_ms:
            point.tick(now_ms(t0))
            if cond():
                return now_ms(t0) - start
            time.sleep(0.01)
        raise AssertionError("not within %d ms: %s" % (limit_ms, point.snapshot()))

    run_until(lambda: point.snapshot()["i1_ma"] == 16000, 3000)
    snap = point.snapshot()
    assert [snap[f] for f in ("u1_mv", "i2_ma", "i3_ma", "power_mw", "energy_wh", "frequency_mhz")] == [
        230100,
        15000,
        100,
        7360000,
        12345600,
        50000,
    ]
    assert not snap["error_bits"] & d.ERR_METER_COMM
    server.stop()
    lost_after = run_until(lambda: point.error_bits & d.ERR_METER_COMM, 5000)
    assert hal.meter_line.meter.misses == 3 and lost_after >= 2 * 200  # not before the third missed cycle
    assert point.snapshot()["i1_ma"] == 0  # no stale values once the loss is reported
    server.start()
    run_until(lambda: not point.error_bits & d.ERR_METER_COMM, 5000)
    assert point.snapshot()["i1_ma"] == 16000 and hal.meter_line.meter.misses == 0


@pytest.mark.parametrize("meter_type", sorted(meters.MAPS))
def test_driver_reads_every_meter_type_from_its_simulated_rtu_meter(meter_type: str) -> None:
    """The simulated board's meter (chargepark.simmeter: a pymodbus RTU server serving the type's own map)
    answers the firmware's driver with the reading it shows, for every selectable type, and with its serial
    number and firmware version where the type has registers for them."""
    from chargepark.simmeter import MeterImage, rtu_line, serve_rtu

    fd, slave, path = rtu_line()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    image = MeterImage(meters.MAPS[meter_type], unit=UNIT, serial="4711", firmware="2.1.7")
    image.show(meter_case.READING)
    server = asyncio.run_coroutine_threadsafe(serve_rtu(image, path, BAUD), loop).result(10)
    try:
        drv = MeterDriver(
            RtuMaster(PtyPort(fd), BAUD, 300), meters.MAPS[meter_type], unit=UNIT, period_ms=200
        )
        got = poll_first_reading(drv)
        assert meter_case.close_enough(meter_type, got), got
        ident = meters.MAPS[meter_type].get("ident", ())
        key = 1 if "signing" in meters.MAPS[meter_type] else 0  # a signing meter's public key, once
        assert image.reads == len(meters.MAPS[meter_type]["blocks"]) + len(ident) + key  # identified first
        kinds = {f[0]: f[3] for f in ident}
        firmware = {None: "", meters.VERSION: "2.1.7", meters.NUMBER: "217"}[kinds.get(meters.FIRMWARE)]
        assert drv.ident == ("4711" if meters.SERIAL in kinds else "", firmware)
    finally:
        asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
        os.close(fd)
        os.close(slave)
