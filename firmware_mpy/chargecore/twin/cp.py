"""Control pilot: window statistics from raw ADC codes, state classification with hysteresis, diode check."""

from chargecore.twin.arith import div_round
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

try:
    from micropython import native
except ImportError:  # CPython: plain bytecode

    def native(f):
        return f


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
        return div_round((total - self.adc_zero * count) * self.mv_num, count * self.mv_den)

    def _span_mv(self, lo, hi):
        return div_round((hi - lo) * self.mv_num, self.mv_den)

    @native
    def window(self, samples):
        """Statistics of one window of raw codes; returns WIN_OK, WIN_NOISY or WIN_EMPTY."""
        n = len(samples)
        self.high_n = 0
        self.low_n = 0
        self.high_mv = 0
        self.low_mv = 0
        self.duty = 0
        self.freq_hz = 0
        if n == 0 or n > CP_MAX_SAMPLES:
            self.status = WIN_EMPTY
            return WIN_EMPTY
        lo = min(samples)
        hi = max(samples)
        if self._span_mv(lo, hi) < CP_MIN_SWING_MV:
            # One level, no PWM: its sign says which plateau it is.
            total = sum(samples)
            level = self._mv(total, n)
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
        thr = (lo + hi) // 2
        skip = self.edge_skip
        prev = samples[0] > thr
        run_start = 0
        glitch = 0
        hs = 0
        hn = 0
        hmin = 65535
        hmax = 0
        ls = 0
        ln = 0
        lmin = 65535
        lmax = 0
        nhigh = 0
        rises = 0
        first = -1
        last = -1
        cfirst = 0
        clast = 0
        for i in range(n):
            v = samples[i]
            h = v > thr
            if h != prev:
                if run_start > 0 and i - run_start <= skip:
                    glitch = 1
                run_start = i
                prev = h
                if h:
                    rises += 1
                    if first < 0:
                        first = i
                        cfirst = nhigh
                    last = i
                    clast = nhigh
            if h:
                nhigh += 1
                if i - run_start >= skip:
                    hs += v
                    hn += 1
                    if v < hmin:
                        hmin = v
                    if v > hmax:
                        hmax = v
            elif i - run_start >= skip:
                ls += v
                ln += 1
                if v < lmin:
                    lmin = v
                if v > lmax:
                    lmax = v
        if glitch or hn == 0 or ln == 0:
            self.status = WIN_NOISY
            return WIN_NOISY
        if self._span_mv(hmin, hmax) > self.noise_mv or self._span_mv(lmin, lmax) > self.noise_mv:
            self.status = WIN_NOISY
            return WIN_NOISY
        self.high_n = hn
        self.low_n = ln
        self.high_mv = self._mv(hs, hn)
        self.low_mv = self._mv(ls, ln)
        if rises >= 2:
            # Whole periods only: from the first rising edge to the last one.
            self.duty = div_round((clast - cfirst) * 1000, last - first)
            self.freq_hz = div_round((rises - 1) * self.sample_rate_hz, last - first)
        else:
            self.duty = div_round(nhigh * 1000, n)
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
