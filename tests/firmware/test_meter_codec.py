"""The Modbus RTU codec, the meter maps and the polling driver give the same results on CPython and on the
real micropython binary (checks in meter_case.py); the machine HAL opens the meter line of board.json."""

import json
import sys
import types
from pathlib import Path

import meter_case
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iomodule import meters
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


def test_every_map_polls_without_allocation_on_micropython(micropython):
    """Every RS-485 map, float32 ones included (their values are scaled in integers): polling and decoding
    allocate nothing once the meter was identified and read once."""
    names = sorted(meters.MAPS)
    out = micropython.run(
        "import meter_case\nprint([meter_case.driver_without_allocation(n, 5) for n in %r])" % names,
        extra_path=[HERE],
    )
    assert dict(zip(names, json.loads(out.strip()), strict=True)) == dict.fromkeys(names, 0)


@settings(max_examples=2000, deadline=None)
@given(
    st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.sampled_from((1, 1000, 1000000)), st.integers(1, 1000)
)
def test_float32_scaled_in_integers_equals_the_float_way(hi, lo, mul, div):
    """Any float32 bit pattern: the integer scaling is int(f * mul) // div, or ValueError where the float
    decoding refuses it (NaN, infinity, beyond LIMIT)."""
    word = meter_case.Registers({0: hi, 1: lo})
    try:
        f = meters.decode(word, 0, meters.F32, meters.MSW)
    except ValueError:
        with pytest.raises(ValueError):
            meters.scaled(word, 0, meters.F32, meters.MSW, mul, div)
        return
    assert meters.scaled(word, 0, meters.F32, meters.MSW, mul, div) == int(f * mul) // div


def test_two_meters_on_one_line_allocate_nothing_on_micropython(micropython):
    """The point's meter and the load circuit's higher-level meter on one line: once both were
    identified, polling and reading them allocates nothing."""
    out = micropython.run(
        "import meter_case\nprint(meter_case.line_without_allocation(20))", extra_path=[HERE]
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
    """A silent meter line: a mapped type waits for its first answer (no error yet), a re-sent
    configuration with the same type keeps the driver, a type without a map is refused by validation
    (the driver stays), and "none" closes it."""
    import chargedefs as d
    import chargeschema
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
    driver = hal.meter_line.meter
    point.tick(10)
    assert driver.master.port.uart.written == 1 and not point.error_bits & d.ERR_METER_COMM
    point.configure(dict(FULL, meter_type="em24"))
    assert hal.meter_line.meter is driver
    with pytest.raises(chargeschema.Invalid) as refused:
        point.configure(dict(FULL, meter_type="sdm630"))  # no register map for it
    assert refused.value.errors["meter_type"].startswith("must be one of none, ")
    assert hal.meter_line.meter is driver and point.cfg["meter_type"] == "em24"
    point.configure(dict(FULL, meter_type="none"))
    point.tick(20)
    assert hal.meter_line.meter is None and not point.error_bits & d.ERR_METER_COMM
