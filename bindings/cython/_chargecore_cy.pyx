# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The C safety core through Cython: the chargecore API (docs/core-api.md); sample windows are read in place."""

from libc.stdint cimport int32_t, uint16_t, uint32_t

cimport chargecore_c as c

BACKEND = "cython"


cdef inline uint32_t _tick(now_ms):
    return <uint32_t>(now_ms & 0xFFFFFFFF)


cdef const uint16_t[::1] _samples(samples) except *:
    """The window in place; anything but a contiguous buffer of format H is a TypeError, as on every backend."""
    cdef const uint16_t[::1] view
    try:
        view = samples
    except (ValueError, BufferError) as exc:
        raise TypeError("samples: a contiguous buffer of uint16 ('H') expected") from exc
    return view


def _export_constants(namespace):
    cdef int32_t i
    for i in range(c.cc_constant_count):
        namespace[c.cc_constants[i].name.decode()] = c.cc_constants[i].value
    namespace["OC_EVZE_STAGES_PCT"] = tuple(c.cc_oc_evze_stages_pct[i] for i in range(c.cc_oc_evze_stage_count))


_export_constants(globals())


cdef class Cp:
    cdef c.cc_cp s

    def __init__(self, int32_t adc_zero, int32_t mv_num, int32_t mv_den,
                 int32_t sample_rate_hz=c.CC_CP_DEFAULT_SAMPLE_RATE_HZ, int32_t edge_skip=c.CC_CP_DEFAULT_EDGE_SKIP,
                 int32_t noise_mv=c.CC_CP_DEFAULT_NOISE_MV, int32_t noisy_limit=c.CC_CP_DEFAULT_NOISY_LIMIT):
        cdef c.cc_cp_config cfg
        cfg.adc_zero = adc_zero
        cfg.mv_num = mv_num
        cfg.mv_den = mv_den
        cfg.sample_rate_hz = sample_rate_hz
        cfg.edge_skip = edge_skip
        cfg.noise_mv = noise_mv
        cfg.noisy_limit = noisy_limit
        if c.cc_cp_init(&self.s, &cfg) != 0:
            raise ValueError("invalid CP configuration")

    def reset(self):
        c.cc_cp_reset(&self.s)

    def window(self, samples):
        cdef const uint16_t[::1] view = _samples(samples)
        cdef size_t n = view.shape[0]
        return c.cc_cp_window(&self.s, &view[0] if n else NULL, n)

    def classify(self, bint pwm_on):
        return c.cc_cp_classify(&self.s, pwm_on)

    def update(self, samples, bint pwm_on):
        cdef const uint16_t[::1] view = _samples(samples)
        cdef size_t n = view.shape[0]
        return c.cc_cp_update(&self.s, &view[0] if n else NULL, n, pwm_on)

    @property
    def adc_zero(self):
        return self.s.cfg.adc_zero

    @property
    def mv_num(self):
        return self.s.cfg.mv_num

    @property
    def mv_den(self):
        return self.s.cfg.mv_den

    @property
    def sample_rate_hz(self):
        return self.s.cfg.sample_rate_hz

    @property
    def edge_skip(self):
        return self.s.cfg.edge_skip

    @property
    def noise_mv(self):
        return self.s.cfg.noise_mv

    @property
    def noisy_limit(self):
        return self.s.cfg.noisy_limit

    @property
    def status(self):
        return self.s.status

    @property
    def high_mv(self):
        return self.s.high_mv

    @property
    def low_mv(self):
        return self.s.low_mv

    @property
    def high_n(self):
        return self.s.high_n

    @property
    def low_n(self):
        return self.s.low_n

    @property
    def duty(self):
        return self.s.duty

    @property
    def freq_hz(self):
        return self.s.freq_hz

    @property
    def state(self):
        return self.s.state

    @property
    def faults(self):
        return self.s.faults

    @property
    def diode_ok(self):
        return self.s.diode_ok

    @property
    def noisy(self):
        return self.s.noisy


def cp_state(int32_t prev, int32_t high_n, int32_t high_mv, int32_t low_n, int32_t low_mv):
    return c.cc_cp_state(prev, high_n, high_mv, low_n, low_mv)


def duty_from_current(int32_t ma):
    return c.cc_duty_from_current(ma)


def current_from_duty(int32_t duty):
    return c.cc_current_from_duty(duty)


def pp_capacity(int32_t ohm):
    return c.cc_pp_capacity(ohm)


def pp_accept(int32_t capacity_ma, int32_t reject):
    return c.cc_pp_accept(capacity_ma, reject)


def balance_limit(int32_t set_ma, int32_t i1, int32_t i2, int32_t i3):
    return c.cc_balance_limit(set_ma, i1, i2, i3)


def phase_of(int32_t rotation, int32_t phase):
    return c.cc_phase_of(rotation, phase)


cdef class Overcurrent:
    cdef c.cc_oc s

    def __init__(self, int32_t mode):
        if c.cc_oc_init(&self.s, mode) != 0:
            raise ValueError("invalid overcurrent mode")

    def reset(self):
        c.cc_oc_reset(&self.s)

    def update(self, now_ms, int32_t set_ma, int32_t imax_ma):
        return c.cc_oc_update(&self.s, _tick(now_ms), set_ma, imax_ma)

    @property
    def mode(self):
        return self.s.mode

    @property
    def state(self):
        return self.s.state

    @property
    def trips(self):
        return self.s.trips

    @property
    def stage(self):
        return self.s.stage


cdef class Contactor:
    cdef c.cc_ct s

    def __init__(self, int32_t aux, int32_t debounce_ms=c.CC_CT_DEFAULT_DEBOUNCE_MS,
                 int32_t timeout_ms=c.CC_CT_DEFAULT_TIMEOUT_MS):
        if c.cc_ct_init(&self.s, aux, debounce_ms, timeout_ms) != 0:
            raise ValueError("invalid contactor configuration")

    def reset(self):
        c.cc_ct_reset(&self.s)

    def update(self, now_ms, bint command, bint aux_high):
        return c.cc_ct_update(&self.s, _tick(now_ms), command, aux_high)

    @property
    def aux(self):
        return self.s.aux

    @property
    def debounce_ms(self):
        return self.s.debounce_ms

    @property
    def timeout_ms(self):
        return self.s.timeout_ms

    @property
    def fault(self):
        return self.s.fault

    @property
    def closed(self):
        return self.s.closed


cdef class Rcm:
    cdef c.cc_rcm s

    def __init__(self, int32_t trip_ua=c.CC_RCM_TRIP_UA, int32_t filter_ms=c.CC_RCM_DEFAULT_FILTER_MS):
        if c.cc_rcm_init(&self.s, trip_ua, filter_ms) != 0:
            raise ValueError("invalid RCM configuration")

    def reset(self):
        c.cc_rcm_reset(&self.s)

    def start_test(self, now_ms):
        return c.cc_rcm_start_test(&self.s, _tick(now_ms))

    def update(self, now_ms, int32_t residual_ua):
        return c.cc_rcm_update(&self.s, _tick(now_ms), residual_ua)

    @property
    def trip_ua(self):
        return self.s.trip_ua

    @property
    def filter_ms(self):
        return self.s.filter_ms

    @property
    def status(self):
        return self.s.status

    @property
    def tripped(self):
        return self.s.tripped

    @property
    def test_ok(self):
        return self.s.test_ok

    @property
    def test_pin(self):
        return self.s.test_pin


def pt1000_mohm(int32_t ddegc):
    return c.cc_pt1000_mohm(ddegc)


def pt1000_ddegc(int32_t mohm):
    return c.cc_pt1000_ddegc(mohm)


def ptc_status(int32_t ohm, int32_t trip_ohm):
    return c.cc_ptc_status(ohm, trip_ohm)


cdef class Derating:
    cdef c.cc_derating s

    def __init__(self, int32_t mode, int32_t start_ddegc, int32_t stop_ddegc, int32_t start_ma, int32_t stop_ma):
        if c.cc_derating_init(&self.s, mode, start_ddegc, stop_ddegc, start_ma, stop_ma) != 0:
            raise ValueError("invalid derating: need -200 degC <= start < stop <= 850 degC, "
                             "1000 A >= start current > stop >= 0")

    def reset(self):
        c.cc_derating_reset(&self.s)

    def update(self, int32_t ddegc):
        return c.cc_derating_update(&self.s, ddegc)

    @property
    def mode(self):
        return self.s.mode

    @property
    def start_ddegc(self):
        return self.s.start_ddegc

    @property
    def stop_ddegc(self):
        return self.s.stop_ddegc

    @property
    def start_ma(self):
        return self.s.start_ma

    @property
    def stop_ma(self):
        return self.s.stop_ma

    @property
    def active(self):
        return self.s.active

    @property
    def fault(self):
        return self.s.fault


cdef class Fallback:
    cdef c.cc_fallback s

    def __init__(self, int32_t time_ms, int32_t fallback_ma):
        if c.cc_fallback_init(&self.s, time_ms, fallback_ma) != 0:
            raise ValueError("invalid fallback configuration")

    def reset(self):
        c.cc_fallback_reset(&self.s)

    def kick(self, now_ms):
        c.cc_fallback_kick(&self.s, _tick(now_ms))

    def update(self, now_ms, int32_t set_ma):
        return c.cc_fallback_update(&self.s, _tick(now_ms), set_ma)

    @property
    def time_ms(self):
        return self.s.time_ms

    @property
    def fallback_ma(self):
        return self.s.fallback_ma

    @property
    def active(self):
        return self.s.active
