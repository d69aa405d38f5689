"""The Modbus RTU codec, the meter maps and the polling driver give the same results on CPython and on the
real micropython binary (checks in meter_case.py); the machine HAL opens the meter line of board.json."""

import json
import sys
import types
from pathlib import Path

import meter_case
import pytest
from simpoint import ROOT

HERE = Path(__file__).parent


@pytest.mark.parametrize("check", meter_case.CHECKS, ids=lambda c: c.__name__)
def test_on_cpython(check):
    check()


def test_on_micropython(micropython):
    out = micropython.run("import meter_case\nprint(meter_case.run_all())", extra_path=[HERE])
    assert out.strip() == repr([c.__name__ for c in meter_case.CHECKS])


def test_meter_polling_allocates_nothing_on_micropython(micropython):
    out = micropython.run(
        "import meter_case\nprint(meter_case.em24_driver_without_allocation(20))", extra_path=[HERE]
    )
    assert out.strip() == "0"


def test_uart_port_drives_the_direction_pin_without_waiting():
    pins = {}
    uart_log = []

    class Pin:
        OUT = 1

        def __init__(self, n, mode=None, value=None):
            self.n = n
            if value is not None:
                pins[n] = value

        def value(self, v):
            pins[self.n] = v

    class UART:
        def __init__(self, uart_id, **kw):
            uart_log.append((uart_id, kw["baudrate"], kw["parity"], kw["timeout"]))
            self.pending = 0

        def write(self, buf):
            self.pending = 2  # two polls until the shift register is empty

        def txdone(self):
            self.pending -= 1
            return self.pending <= 0

        def any(self):
            return 0

    from iomodule.modbus_rtu import UartPort

    port = UartPort(types.SimpleNamespace(Pin=Pin, UART=UART), 2, 9600, 0, 1, tx=43, rx=44, de=9)
    assert uart_log == [(2, 9600, 0, 0)] and pins[9] == 0
    port.write(b"\x01\x04")
    assert pins[9] == 1
    assert port.readinto(bytearray(4)) == 0 and pins[9] == 1
    assert port.readinto(bytearray(4)) == 0 and pins[9] == 0


@pytest.mark.parametrize("name", ["rp2040", "esp32s3"])
def test_real_boards_name_their_meter_line(name):
    board = json.loads((ROOT / "boards" / name / "board.json").read_text())
    assert board["features"]["meter"] is True
    m = board["meter"]
    assert m["uart"] != board["bus"]["uart"] and m["parity"] in ("none", "even", "odd")
    used = [v for k, v in board["pins"].items() if not isinstance(v, list)]
    for v in board["pins"].values():
        if isinstance(v, list):
            used += v
    used += [board["bus"][k] for k in ("tx", "rx", "de")]
    assert m["tx"] not in used and m["rx"] not in used


def test_machine_hal_meter_by_configured_type(monkeypatch):
    """A silent meter line: a mapped type waits for its first answer (no error yet), a type without a map
    is reported lost at once, and a re-sent configuration with the same type keeps the driver."""
    import chargedefs as d
    from simpoint import FULL
    from test_machine_hal import Pins, fake_machine

    class SilentUart:
        def __init__(self, uart_id, **kw):
            self.written = 0

        def write(self, buf):
            self.written += 1

        def txdone(self):
            return True

        def any(self):
            return 0

    machine = fake_machine(Pins())
    machine.UART = SilentUart
    monkeypatch.setitem(sys.modules, "machine", machine)
    monkeypatch.delitem(sys.modules, "iomodule.machine_hal", raising=False)
    from iomodule.machine_hal import MachineHal
    from iomodule.point import ChargePoint

    board = json.loads((ROOT / "boards" / "rp2040" / "board.json").read_text())
    hal = MachineHal(board)
    point = ChargePoint(board, hal)
    point.configure(dict(FULL, meter_type="em24"))
    driver = hal.meter
    point.tick(10)
    assert driver.master.port.uart.written == 1 and not point.error_bits & d.ERR_METER_COMM
    point.configure(dict(FULL, meter_type="em24"))
    assert hal.meter is driver
    point.configure(dict(FULL, meter_type="eem350"))  # no register map for it
    point.tick(20)
    assert hal.meter is None and point.error_bits & d.ERR_METER_COMM
