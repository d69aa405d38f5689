"""HAL for real MCU boards through MicroPython's `machine` module; pins and scaling come from board.json.

Board keys used: "pins" {cp_pwm, cp_adc, pp_adc, temp_adc, lock_fb_adc, lock_a, lock_b, contactor,
rcm_trip, rcm_error, rcm_test, di: [..], do: [..], do_oe: [..], ai: [..]}, "adc" (bits of read_u16
= 16), "cp" (window, sample_rate_hz), "meter" {uart, baud, parity, stop, tx, rx, de, address,
period_ms, timeout_ms, misses}: the Modbus RTU energy meter (iomodule/meter.py, docs/porting.md), "rfid"
{uart, parity, stop, tx, rx, de}: the RFID reader's line, opened at the configured reader type's baud rate
(iomodule/rfid).

CP sampling: a Python loop cannot sample at the core's 400 kHz, so the window is rebuilt by equivalent-
time sampling: a burst of ADC reads taken at whatever rate the loop reaches is split into the positive
and negative level, and the window is written as one PWM period at the core's sample rate with the duty
the generator is driving. The core then measures plateaus and classifies as usual. A board with DMA
sampling replaces `cp_samples` only. Untested on silicon here (no hardware); see docs/porting.md.
"""

import machine  # on the unix port this imports, but has no Pin/ADC/PWM: only real boards construct this

from iomodule import meters
from iomodule.hal import Hal
from iomodule.meter import MeterLine
from iomodule.modbus_rtu import RtuMaster, UartPort

try:
    from time import ticks_diff, ticks_ms
except ImportError:  # CPython, in the tests with a stand-in `machine`
    from time import monotonic

    def ticks_ms():
        return int(monotonic() * 1000)

    def ticks_diff(a, b):
        return a - b


_BURST = 48


class MachineHal(Hal):
    def __init__(self, board):
        Hal.__init__(self, board)
        pins = board["pins"]
        ADC = machine.ADC
        PWM = machine.PWM
        Pin = machine.Pin
        self.cp_pwm = PWM(Pin(pins["cp_pwm"]), freq=1000, duty_u16=65535)
        self.cp_adc = ADC(Pin(pins["cp_adc"]))
        self.pp_adc = ADC(Pin(pins["pp_adc"]))
        self.temp_adc = ADC(Pin(pins["temp_adc"])) if "temp_adc" in pins else None
        self.lock_fb = ADC(Pin(pins["lock_fb_adc"])) if "lock_fb_adc" in pins else None
        self.lock_a = Pin(pins["lock_a"], Pin.OUT, value=0) if "lock_a" in pins else None
        self.lock_b = Pin(pins["lock_b"], Pin.OUT, value=0) if "lock_b" in pins else None
        self.contactor = Pin(pins["contactor"], Pin.OUT, value=0)
        self.rcm_trip = Pin(pins["rcm_trip"], Pin.IN) if "rcm_trip" in pins else None
        self.rcm_err = Pin(pins["rcm_error"], Pin.IN) if "rcm_error" in pins else None
        self.rcm_test_pin = Pin(pins["rcm_test"], Pin.OUT, value=0) if "rcm_test" in pins else None
        self.di = [Pin(p, Pin.IN) for p in pins["di"]]
        self.do = [Pin(p, Pin.OUT, value=0) for p in pins["do"]]
        self.do_oe = [Pin(p, Pin.OUT, value=1) for p in pins.get("do_oe", ())]  # output enable (floating)
        self.ai = [ADC(Pin(p)) for p in pins["ai"]]
        self.duty = 1000
        self.burst = [0] * _BURST
        self.period_n = board["cp"]["sample_rate_hz"] // 1000
        self.meter_line = None  # MeterLine on the meter's UART, opened with the first metered config
        self.meter_ms = 0
        self.meter_last = ticks_ms()
        self.rfid = None  # (baud, UartPort) of the reader line, reopened when the reader type's baud differs

    def cp_set(self, duty_permille):
        self.duty = duty_permille
        self.cp_pwm.duty_u16(duty_permille * 65535 // 1000)

    def cp_samples(self, buf):
        burst = self.burst
        read = self.cp_adc.read_u16
        lo = 65535
        hi = 0
        for i in range(_BURST):
            v = read()
            burst[i] = v
            lo = v if v < lo else lo
            hi = v if v > hi else hi
        mid = (lo + hi) // 2
        hs = hn = ls = ln = 0
        for i in range(_BURST):
            v = burst[i]
            if v >= mid:
                hs += v
                hn += 1
            else:
                ls += v
                ln += 1
        high = hs // hn if hn else lo
        low = ls // ln if ln else high
        if hi - lo < 2048:  # one constant level
            high = low = (hs + ls) // _BURST
        n = len(buf)
        cut = self.period_n * self.duty // 1000
        for i in range(n):
            buf[i] = high if i % self.period_n < cut else low
        return n

    def pp_raw(self):
        return self.pp_adc.read_u16()

    def temp_raw(self):
        return self.temp_adc.read_u16() if self.temp_adc else 65535

    def ai_raw(self, index):
        return self.ai[index].read_u16()

    def contactor_set(self, closed):
        self.contactor.value(1 if closed else 0)

    def di_bits(self):
        bits = 0
        for i in range(len(self.di)):
            if self.di[i].value():
                bits |= 1 << i
        return bits

    def do_set(self, index, level):
        if index < len(self.do_oe):
            self.do_oe[index].value(0 if level == 2 else 1)
        self.do[index].value(1 if level == 1 else 0)

    def lock_drive(self, direction):
        if self.lock_a is None:
            return
        self.lock_a.value(1 if direction > 0 else 0)
        self.lock_b.value(1 if direction < 0 else 0)

    def lock_feedback_raw(self):
        return self.lock_fb.read_u16() if self.lock_fb else 0

    def rcm_tripped(self):
        return bool(self.rcm_trip and self.rcm_trip.value())

    def rcm_error(self):
        return bool(self.rcm_err and self.rcm_err.value())

    def rcm_test(self, on):
        if self.rcm_test_pin:
            self.rcm_test_pin.value(1 if on else 0)

    def rcm_ua(self):
        return -1

    def meter_setup(self, meter_type):
        cfg = self.board.get("meter")
        if not cfg or (self.meter_line is None and meter_type not in meters.MAPS):
            return  # no meter line, or "none" (validation admits only types with a register map)
        if self.meter_line is None:
            parity = {"none": None, "even": 0, "odd": 1}[cfg.get("parity", "none")]
            port = UartPort(
                machine,
                cfg["uart"],
                cfg["baud"],
                parity,
                cfg.get("stop", 1),
                cfg.get("tx"),
                cfg.get("rx"),
                cfg.get("de"),
            )
            self.meter_line = MeterLine(
                RtuMaster(port, cfg["baud"], cfg.get("timeout_ms", 250)),
                cfg.get("address", 1),
                cfg.get("period_ms", 1000),
                cfg.get("misses", 3),
            )
        self.meter_line.fit(meter_type, self.meter_line.higher_type)

    def higher_setup(self, meter_type):
        if self.meter_line is not None:
            self.meter_line.fit(self.meter_line.meter_type, meter_type)

    def rfid_port(self, reader_type, spec):
        cfg = self.board.get("rfid")
        if not cfg:
            return None
        baud = spec["baud"]
        if self.rfid is None or self.rfid[0] != baud:
            parity = {"none": None, "even": 0, "odd": 1}[cfg.get("parity", "none")]
            port = UartPort(
                machine,
                cfg["uart"],
                baud,
                parity,
                cfg.get("stop", 1),
                cfg.get("tx"),
                cfg.get("rx"),
                cfg.get("de"),
            )
            self.rfid = (baud, port)
        return self.rfid[1]

    def meter_read(self, buf):
        line = self.meter_line
        if line is None:
            return False
        t = ticks_ms()
        self.meter_ms += ticks_diff(t, self.meter_last)  # monotonic across the ticks_ms wrap
        self.meter_last = t
        line.poll(self.meter_ms)
        return line.read(buf)

    def higher_read(self, buf):
        return self.meter_line.higher_read(buf) if self.meter_line is not None else None

    def meter_ident(self):
        return self.meter_line.ident() if self.meter_line is not None else None

    def meter_transaction(self, start, session):
        if self.meter_line is not None:
            self.meter_line.transaction(start, session)

    def meter_clock(self, utc_s, tz_min, at_ms):
        if self.meter_line is not None:
            self.meter_line.clock(utc_s, tz_min, at_ms)

    def meter_key(self):
        return self.meter_line.key() if self.meter_line is not None else None

    def meter_signed(self):
        return self.meter_line.signed() if self.meter_line is not None else None
