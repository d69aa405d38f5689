"""The real boards' HAL against a stand-in `machine` module (no silicon here): pins come from board.json,
the equivalent-time CP window feeds the core, outputs float through their enable pin, and a whole
ChargePoint runs a tick on it. The stand-in pilot input reads a B2 vehicle at the driven duty."""

import json
import sys
import types
from array import array

import chargecore as core
import chargedefs as d
import pytest
from simpoint import FULL, ROOT


class Pins:
    def __init__(self):
        self.levels = {}
        self.adc = {}  # pin -> read_u16 value or a callable


def fake_machine(pins):
    class Pin:
        OUT = 1
        IN = 0

        def __init__(self, n, mode=None, value=None):
            self.n = n
            if value is not None:
                pins.levels[n] = value

        def value(self, v=None):
            if v is None:
                return pins.levels.get(self.n, 0)
            pins.levels[self.n] = v
            return None

    class ADC:
        def __init__(self, pin):
            self.n = pin.n

        def read_u16(self):
            v = pins.adc.get(self.n, 0)
            return v() if callable(v) else v

    class PWM:
        def __init__(self, pin, freq, duty_u16):
            self.n = pin.n
            pins.levels[("pwm", self.n)] = duty_u16

        def duty_u16(self, v):
            pins.levels[("pwm", self.n)] = v

    return types.SimpleNamespace(Pin=Pin, ADC=ADC, PWM=PWM)


@pytest.mark.parametrize("name", ["rp2040", "esp32s3"])
def test_machine_hal_drives_the_pins_of_board_json(monkeypatch, name):
    board = json.loads((ROOT / "boards" / name / "board.json").read_text())
    pins = Pins()
    monkeypatch.setitem(sys.modules, "machine", fake_machine(pins))
    monkeypatch.delitem(sys.modules, "iomodule.machine_hal", raising=False)
    from iomodule.machine_hal import MachineHal
    from iomodule.point import ChargePoint

    p = board["pins"]
    cp = board["cp"]

    def code(mv):
        return cp["adc_zero"] + mv * cp["mv_den"] // cp["mv_num"]

    # the pilot alternates between +9 V (B, vehicle diode) and -12 V, as a real burst would sample it
    toggle = {"i": 0}

    def pilot():
        toggle["i"] += 1
        return code(9000) if toggle["i"] % 2 else code(-12000)

    pins.adc[p["cp_adc"]] = pilot
    pins.adc[p["pp_adc"]] = 65535  # no cable
    pins.adc[p["lock_fb_adc"]] = 3000 * 65535 // board["adc"]["vref_mv"]  # unlocked window of marquardt4
    hal = MachineHal(board)
    hal.cp_set(500)
    assert pins.levels[("pwm", p["cp_pwm"])] == 500 * 65535 // 1000
    window = array("H", bytes(2 * cp["window"]))
    assert hal.cp_samples(window) == cp["window"]
    c = core.Cp(cp["adc_zero"], cp["mv_num"], cp["mv_den"], cp["sample_rate_hz"])
    assert c.update(window, 1) == core.STATE_B and abs(c.duty - 500) <= 20
    hal.do_set(0, 2)
    assert pins.levels[p["do_oe"][0]] == 0  # floating: driver disabled
    hal.do_set(1, 1)
    assert pins.levels[p["do"][1]] == 1 and pins.levels[p["do_oe"][1]] == 1
    hal.lock_drive(1)
    assert (pins.levels[p["lock_a"]], pins.levels[p["lock_b"]]) == (1, 0)
    hal.contactor_set(True)
    assert pins.levels[p["contactor"]] == 1
    pins.levels[p["di"][2]] = 1
    assert hal.di_bits() == 4
    # the controller runs on it: a vehicle in B, no cable on the socket PP -> PP error, contactor open
    point = ChargePoint(board, hal)
    point.configure(dict(FULL, meter_type="none"))
    for t in range(10, 200, 10):
        point.tick(t)
    assert point.ev_connected and point.error_bits & d.ERR_PP
    assert point.contactor_cmd is False and pins.levels[p["contactor"]] == 0


def test_machine_hal_opens_the_rfid_line_of_board_json_at_the_readers_baud(monkeypatch):
    board = json.loads((ROOT / "boards" / "esp32s3" / "board.json").read_text())
    opened = []

    class UART:
        def __init__(self, uart_id, **kw):
            opened.append((uart_id, kw["baudrate"], kw["tx"].n, kw["rx"].n))

    machine = fake_machine(Pins())
    machine.UART = UART
    monkeypatch.setitem(sys.modules, "machine", machine)
    monkeypatch.delitem(sys.modules, "iomodule.machine_hal", raising=False)
    from iomodule.machine_hal import MachineHal
    from iomodule.rfid import spec

    assert MachineHal(board).rfid_port("twn4", spec("twn4")) is None  # the board has no reader line
    board["rfid"] = {"uart": 2, "tx": 43, "rx": 44}
    hal = MachineHal(board)
    twn4 = hal.rfid_port("twn4", spec("twn4"))
    assert hal.rfid_port("uw_xeu1", spec("uw_xeu1")) is twn4  # same baud: the same line
    assert hal.rfid_port("mde950", spec("mde950")) is not twn4
    assert opened == [(2, 9600, 43, 44), (2, 115200, 43, 44)]
