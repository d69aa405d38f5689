"""Digital inputs with edge detection, digital outputs with the manual's modes, analog inputs in mV."""

import chargedefs as d

LEVEL_LOW = 0
LEVEL_HIGH = 1
LEVEL_FLOATING = 2
PULSE_SUB_MS = 100  # "pulsating low": software PWM at 100 ms whose low share ramps 0..100..0 % over 2 s


class DigitalInputs:
    def __init__(self, count):
        self.count = count
        self.mask = (1 << count) - 1
        self.bits = 0
        self.rising = 0
        self.falling = 0
        self._first = True

    def update(self, bits):
        bits &= self.mask
        if self._first:  # no edges from the power-on state
            self._first = False
            self.bits = bits
            return
        self.rising = bits & ~self.bits
        self.falling = self.bits & ~bits
        self.bits = bits

    def high(self, number):
        """Input `number` (1-based) is high."""
        return (self.bits >> (number - 1)) & 1 == 1


class DigitalOutputs:
    """Each output has a mode (chargedefs.OUT_*) and a flashing duty in %; mode `bus` follows the head's
    last request for that output (bus_mode/bus_duty)."""

    def __init__(self, count):
        self.count = count
        self.mode = [d.OUT_BUS] * count
        self.duty = [50] * count
        self.bus_mode = [d.OUT_LOW] * count
        self.bus_duty = [50] * count
        self.level = [LEVEL_LOW] * count

    def effective(self, i):
        """(mode, duty) actually driven on output i (0-based), resolving bus control."""
        if self.mode[i] == d.OUT_BUS:
            return self.bus_mode[i], self.bus_duty[i]
        return self.mode[i], self.duty[i]

    def packed_modes(self):
        """4 bits per output, effective mode code, output 1 = bits 3..0 (live field `outputs`)."""
        v = 0
        for i in range(self.count):
            m = self.bus_mode[i] if self.mode[i] == d.OUT_BUS else self.mode[i]
            v |= m << (4 * i)
        return v

    def drive(self, hal, now_ms):
        for i in range(self.count):
            mode = self.mode[i]
            duty = self.duty[i]
            if mode == d.OUT_BUS:
                mode = self.bus_mode[i]
                duty = self.bus_duty[i]
            lvl = level_at(mode, duty, now_ms)
            if lvl != self.level[i]:
                self.level[i] = lvl
                hal.do_set(i, lvl)

    def apply_all(self, hal):
        for i in range(self.count):
            hal.do_set(i, self.level[i])


def level_at(mode, duty, now_ms):
    if mode == d.OUT_HIGH:
        return LEVEL_HIGH
    if mode == d.OUT_FLOATING:
        return LEVEL_FLOATING
    phase = now_ms % d.OUTPUT_FLASH_PERIOD_MS
    if mode == d.OUT_FLASH_HIGH:
        return LEVEL_HIGH if phase * 100 < duty * d.OUTPUT_FLASH_PERIOD_MS else LEVEL_LOW
    if mode == d.OUT_FLASH_LOW:
        return LEVEL_LOW if phase * 100 < duty * d.OUTPUT_FLASH_PERIOD_MS else LEVEL_HIGH
    if mode == d.OUT_PULSE_LOW:
        half = d.OUTPUT_FLASH_PERIOD_MS // 2
        low_share = phase if phase < half else d.OUTPUT_FLASH_PERIOD_MS - phase  # 0..half
        return LEVEL_LOW if (now_ms % PULSE_SUB_MS) * half < low_share * PULSE_SUB_MS else LEVEL_HIGH
    return LEVEL_LOW


class AnalogInputs:
    def __init__(self, count, analog):
        self.count = count
        self.analog = analog
        self.mv = [0] * count

    def update(self, hal):
        for i in range(self.count):
            self.mv[i] = self.analog.ai_mv(hal.ai_raw(i))
