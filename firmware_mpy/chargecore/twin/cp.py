"""Control pilot: window statistics from raw ADC codes, state classification with hysteresis, diode check."""

import sys
from array import array
from struct import pack_into

from chargecore.twin.arith import div_round, scale
from chargecore.twin.consts import (
    CP_A_HYST_MIN_MV,
    CP_A_MIN_MV,
    CP_B_HYST_MIN_MV,
    CP_B_MIN_MV,
    CP_C_HYST_MIN_MV,
    CP_C_MIN_MV,
    CP_D_MIN_MV,
    CP_DEFAULT_EDGE_SKIP,
    CP_DEFAULT_NOISE_MV,
    CP_DEFAULT_NOISY_LIMIT,
    CP_DEFAULT_SAMPLE_RATE_HZ,
    CP_DIODE_NEG_MAX_MV,
    CP_E_MIN_MV,
    CP_F_MAX_MV,
    CP_F_MIN_MV,
    CP_FAULT_DIODE,
    CP_FAULT_NOISY,
    CP_MAX_FULL_SCALE_MV,
    CP_MAX_SAMPLES,
    CP_MIN_SWING_MV,
    CP_PILOT_FAULT_ABOVE_MV,
    STATE_A,
    STATE_B,
    STATE_C,
    STATE_D,
    STATE_E,
    STATE_F,
    STATE_NONE,
    STATE_PILOT_FAULT,
    WIN_EMPTY,
    WIN_NOISY,
    WIN_OK,
)
from chargecore.twin.cpscan import (
    IO_CFIRST,
    IO_CLAST,
    IO_FIRST,
    IO_GLITCH,
    IO_HMAX,
    IO_HMIN,
    IO_HN,
    IO_HS,
    IO_LAST,
    IO_LMAX,
    IO_LMIN,
    IO_LN,
    IO_LS,
    IO_NHIGH,
    IO_RISES,
    IO_SIZE,
    IO_SKIP,
    IO_THR,
)

try:  # MicroPython: the per-sample loops as machine code
    from chargecore.twin.cpscan_viper import minmax, runs, total
except (ImportError, SyntaxError):  # CPython, or a port without the viper emitter
    from chargecore.twin.cpscan import minmax, runs, total


def cp_state(prev, high_n, high_mv, low_n, low_mv):
    """The state for the plateaus of one window; `prev` decides inside the hysteresis bands."""
    if high_n <= 0:
        if low_n > 0 and CP_F_MIN_MV <= low_mv <= CP_F_MAX_MV:
            return STATE_F
        return STATE_PILOT_FAULT
    v = high_mv
    if v > CP_PILOT_FAULT_ABOVE_MV:
        return STATE_PILOT_FAULT
    if v >= CP_A_MIN_MV:
        return STATE_A
    if v >= CP_A_HYST_MIN_MV:
        return STATE_A if prev == STATE_A else STATE_B
    if v >= CP_B_MIN_MV:
        return STATE_B
    if v >= CP_B_HYST_MIN_MV:
        return STATE_B if prev == STATE_A or prev == STATE_B else STATE_C
    if v >= CP_C_MIN_MV:
        return STATE_C
    if v >= CP_C_HYST_MIN_MV:
        return STATE_C if STATE_A <= prev <= STATE_C else STATE_D
    if v >= CP_D_MIN_MV:
        return STATE_D
    if v >= CP_E_MIN_MV:
        return STATE_E
    return STATE_PILOT_FAULT


_ON_MICROPYTHON = sys.implementation.name == "micropython"
_BYTE_SEQUENCES = (bytes, bytearray, str)  # built once: a tuple literal in the tick would allocate


def _refuse():
    raise TypeError("samples: a contiguous buffer of uint16 ('H') expected")


class Cp:
    """One pilot input. mV = (code - adc_zero) * mv_num / mv_den (board data; mv_num > 0, mv_den > 0)."""

    def __init__(
        self,
        adc_zero,
        mv_num,
        mv_den,
        sample_rate_hz=CP_DEFAULT_SAMPLE_RATE_HZ,
        edge_skip=CP_DEFAULT_EDGE_SKIP,
        noise_mv=CP_DEFAULT_NOISE_MV,
        noisy_limit=CP_DEFAULT_NOISY_LIMIT,
    ):
        if (
            mv_num <= 0
            or mv_den <= 0
            or adc_zero < 0
            or adc_zero > 65535
            or sample_rate_hz <= 0
            or edge_skip < 0
            or noise_mv < 0
            or noisy_limit < 1
            or 65535 * mv_num > CP_MAX_FULL_SCALE_MV * mv_den
        ):
            raise ValueError("invalid CP configuration")
        self.adc_zero = adc_zero
        self.mv_num = mv_num
        self.mv_den = mv_den
        self.sample_rate_hz = sample_rate_hz
        self.edge_skip = edge_skip
        self.noise_mv = noise_mv
        self.noisy_limit = noisy_limit
        self._io = array("i", [0] * IO_SIZE)  # scratch for the per-sample loops, allocated once
        self.reset()

    def reset(self):
        self.status = WIN_EMPTY
        self.high_mv = 0
        self.low_mv = 0
        self.high_n = 0
        self.low_n = 0
        self.duty = 0
        self.freq_hz = 0
        self.state = STATE_NONE
        self.faults = 0
        self.diode_ok = 0
        self.noisy = 0

    def _mv(self, total, count):
        return scale(total - self.adc_zero * count, count, self.mv_num, self.mv_den)

    def _span_mv(self, lo, hi):
        return scale(hi - lo, 1, self.mv_num, self.mv_den)

    def _check(self, samples, n):
        """TypeError unless samples is a buffer of uint16, as on the C backends. MicroPython cannot tell an
        item size without allocating, but a buffer of n uint16 holds 2n bytes and pack_into checks byte
        lengths: writing the last sample back onto itself proves the viper loops stay inside the buffer."""
        if n == 0:
            return
        if _ON_MICROPYTHON:
            if isinstance(samples, _BYTE_SEQUENCES):
                _refuse()
            try:
                pack_into("H", samples, 2 * n - 2, samples[n - 1])
            except (ValueError, TypeError, OverflowError):
                _refuse()
            return
        try:
            view = memoryview(samples)
        except TypeError:
            _refuse()
        if view.format != "H" or not view.c_contiguous:
            _refuse()

    def window(self, samples):
        """Statistics of one window of raw codes; returns WIN_OK, WIN_NOISY or WIN_EMPTY."""
        n = len(samples)
        self._check(samples, n)
        self.high_n = 0
        self.low_n = 0
        self.high_mv = 0
        self.low_mv = 0
        self.duty = 0
        self.freq_hz = 0
        if n == 0 or n > CP_MAX_SAMPLES:
            self.status = WIN_EMPTY
            return WIN_EMPTY
        io = self._io
        minmax(samples, n, io)
        lo = io[0]
        hi = io[1]
        if self._span_mv(lo, hi) < CP_MIN_SWING_MV:
            # One level, no PWM: its sign says which plateau it is.
            level = self._mv(total(samples, n), n)
            if self._span_mv(lo, hi) > self.noise_mv:
                self.status = WIN_NOISY
                return WIN_NOISY
            if level >= CP_E_MIN_MV:
                self.high_n = n
                self.high_mv = level
                self.duty = 1000
            else:
                self.low_n = n
                self.low_mv = level
            self.status = WIN_OK
            return WIN_OK
        io[IO_THR] = (lo + hi) // 2
        io[IO_SKIP] = self.edge_skip
        runs(samples, n, io)
        hn = io[IO_HN]
        ln = io[IO_LN]
        if io[IO_GLITCH] or hn == 0 or ln == 0:
            self.status = WIN_NOISY
            return WIN_NOISY
        if (
            self._span_mv(io[IO_HMIN], io[IO_HMAX]) > self.noise_mv
            or self._span_mv(io[IO_LMIN], io[IO_LMAX]) > self.noise_mv
        ):
            self.status = WIN_NOISY
            return WIN_NOISY
        self.high_n = hn
        self.low_n = ln
        self.high_mv = self._mv(io[IO_HS], hn)
        self.low_mv = self._mv(io[IO_LS], ln)
        rises = io[IO_RISES]
        if rises >= 2:
            # Whole periods only: from the first rising edge to the last one.
            span = io[IO_LAST] - io[IO_FIRST]
            self.duty = div_round((io[IO_CLAST] - io[IO_CFIRST]) * 1000, span)
            self.freq_hz = div_round((rises - 1) * self.sample_rate_hz, span)
        else:
            self.duty = div_round(io[IO_NHIGH] * 1000, n)
        self.status = WIN_OK
        return WIN_OK

    def classify(self, pwm_on):
        """Classify the last window; pwm_on = the EVSE drives PWM now (enables the diode check)."""
        if self.status != WIN_OK:
            self.noisy += 1
            if self.noisy >= self.noisy_limit:
                self.noisy = self.noisy_limit  # saturate: no growth over a long outage
                self.faults |= CP_FAULT_NOISY
            return self.state
        self.noisy = 0
        self.faults &= ~CP_FAULT_NOISY
        st = cp_state(self.state, self.high_n, self.high_mv, self.low_n, self.low_mv)
        self.state = st
        if st == STATE_A:
            self.faults &= ~CP_FAULT_DIODE
            self.diode_ok = 0
        elif pwm_on and STATE_B <= st <= STATE_D:
            if self.low_n > 0 and self.low_mv <= CP_DIODE_NEG_MAX_MV:
                self.diode_ok = 1
            else:
                self.faults |= CP_FAULT_DIODE
        return st

    def update(self, samples, pwm_on):
        """window() then classify(): the state."""
        self.window(samples)
        return self.classify(pwm_on)
