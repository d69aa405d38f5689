"""The C safety core through cffi (API mode): the chargecore API (docs/core-api.md).

Sample windows go to C through _ffi.from_buffer (no copy). Installed into out/py beside `_chargecore_cffi`.
"""

from array import array as _array

from _chargecore_cffi import ffi as _ffi
from _chargecore_cffi import lib as _lib

BACKEND = "cffi"

_CONSTANTS = {
    _ffi.string(_lib.cc_constants[i].name).decode(): _lib.cc_constants[i].value
    for i in range(_lib.cc_constant_count)
}
globals().update(_CONSTANTS)
OC_EVZE_STAGES_PCT = tuple(_lib.cc_oc_evze_stages_pct[i] for i in range(_lib.cc_oc_evze_stage_count))


def _tick(now_ms):
    return now_ms & 0xFFFFFFFF


def _samples(samples):
    """The window in place; anything but a buffer of format H is a TypeError, as on every backend."""
    if type(samples) is not _array or samples.typecode != "H":
        view = memoryview(samples)
        if view.format != "H" or not view.c_contiguous:
            raise TypeError("samples: a contiguous buffer of uint16 ('H') expected")
    return _ffi.from_buffer("uint16_t[]", samples)


def _field(name):
    return property(lambda self: getattr(self._s, name))


def _cfg_field(name):
    return property(lambda self: getattr(self._s.cfg, name))


class Cp:
    __slots__ = ("_s",)

    def __init__(
        self,
        adc_zero,
        mv_num,
        mv_den,
        sample_rate_hz=_CONSTANTS["CP_DEFAULT_SAMPLE_RATE_HZ"],
        edge_skip=_CONSTANTS["CP_DEFAULT_EDGE_SKIP"],
        noise_mv=_CONSTANTS["CP_DEFAULT_NOISE_MV"],
        noisy_limit=_CONSTANTS["CP_DEFAULT_NOISY_LIMIT"],
    ):
        cfg = _ffi.new(
            "cc_cp_config *",
            {
                "adc_zero": adc_zero,
                "mv_num": mv_num,
                "mv_den": mv_den,
                "sample_rate_hz": sample_rate_hz,
                "edge_skip": edge_skip,
                "noise_mv": noise_mv,
                "noisy_limit": noisy_limit,
            },
        )
        self._s = _ffi.new("cc_cp *")
        if _lib.cc_cp_init(self._s, cfg) != 0:
            raise ValueError("invalid CP configuration")

    def reset(self):
        _lib.cc_cp_reset(self._s)

    def window(self, samples):
        buf = _samples(samples)
        return _lib.cc_cp_window(self._s, buf, len(buf))

    def classify(self, pwm_on):
        return _lib.cc_cp_classify(self._s, 1 if pwm_on else 0)

    def update(self, samples, pwm_on):
        buf = _samples(samples)
        return _lib.cc_cp_update(self._s, buf, len(buf), 1 if pwm_on else 0)

    adc_zero = _cfg_field("adc_zero")
    mv_num = _cfg_field("mv_num")
    mv_den = _cfg_field("mv_den")
    sample_rate_hz = _cfg_field("sample_rate_hz")
    edge_skip = _cfg_field("edge_skip")
    noise_mv = _cfg_field("noise_mv")
    noisy_limit = _cfg_field("noisy_limit")
    status = _field("status")
    high_mv = _field("high_mv")
    low_mv = _field("low_mv")
    high_n = _field("high_n")
    low_n = _field("low_n")
    duty = _field("duty")
    freq_hz = _field("freq_hz")
    state = _field("state")
    faults = _field("faults")
    diode_ok = _field("diode_ok")
    noisy = _field("noisy")


cp_state = _lib.cc_cp_state
duty_from_current = _lib.cc_duty_from_current
current_from_duty = _lib.cc_current_from_duty
pp_capacity = _lib.cc_pp_capacity
pp_accept = _lib.cc_pp_accept
balance_limit = _lib.cc_balance_limit
phase_of = _lib.cc_phase_of
pt1000_mohm = _lib.cc_pt1000_mohm
pt1000_ddegc = _lib.cc_pt1000_ddegc
ptc_status = _lib.cc_ptc_status


class Overcurrent:
    __slots__ = ("_s",)

    def __init__(self, mode):
        self._s = _ffi.new("cc_oc *")
        if _lib.cc_oc_init(self._s, mode) != 0:
            raise ValueError("invalid overcurrent mode")

    def reset(self):
        _lib.cc_oc_reset(self._s)

    def update(self, now_ms, set_ma, imax_ma):
        return _lib.cc_oc_update(self._s, _tick(now_ms), set_ma, imax_ma)

    mode = _field("mode")
    state = _field("state")
    trips = _field("trips")
    stage = _field("stage")


class Contactor:
    __slots__ = ("_s",)

    def __init__(
        self,
        aux,
        debounce_ms=_CONSTANTS["CT_DEFAULT_DEBOUNCE_MS"],
        timeout_ms=_CONSTANTS["CT_DEFAULT_TIMEOUT_MS"],
    ):
        self._s = _ffi.new("cc_ct *")
        if _lib.cc_ct_init(self._s, aux, debounce_ms, timeout_ms) != 0:
            raise ValueError("invalid contactor configuration")

    def reset(self):
        _lib.cc_ct_reset(self._s)

    def update(self, now_ms, command, aux_high):
        return _lib.cc_ct_update(self._s, _tick(now_ms), 1 if command else 0, 1 if aux_high else 0)

    aux = _field("aux")
    debounce_ms = _field("debounce_ms")
    timeout_ms = _field("timeout_ms")
    fault = _field("fault")
    closed = _field("closed")


class Rcm:
    __slots__ = ("_s",)

    def __init__(self, trip_ua=_CONSTANTS["RCM_TRIP_UA"], filter_ms=_CONSTANTS["RCM_DEFAULT_FILTER_MS"]):
        self._s = _ffi.new("cc_rcm *")
        if _lib.cc_rcm_init(self._s, trip_ua, filter_ms) != 0:
            raise ValueError("invalid RCM configuration")

    def reset(self):
        _lib.cc_rcm_reset(self._s)

    def start_test(self, now_ms):
        return _lib.cc_rcm_start_test(self._s, _tick(now_ms))

    def update(self, now_ms, residual_ua):
        return _lib.cc_rcm_update(self._s, _tick(now_ms), residual_ua)

    trip_ua = _field("trip_ua")
    filter_ms = _field("filter_ms")
    status = _field("status")
    tripped = _field("tripped")
    test_ok = _field("test_ok")
    test_pin = _field("test_pin")


class Derating:
    __slots__ = ("_s",)

    def __init__(self, mode, start_ddegc, stop_ddegc, start_ma, stop_ma):
        self._s = _ffi.new("cc_derating *")
        if _lib.cc_derating_init(self._s, mode, start_ddegc, stop_ddegc, start_ma, stop_ma) != 0:
            raise ValueError(
                "invalid derating: need -200 degC <= start < stop <= 850 degC, 1000 A >= start current > stop >= 0"
            )

    def reset(self):
        _lib.cc_derating_reset(self._s)

    def update(self, ddegc):
        return _lib.cc_derating_update(self._s, ddegc)

    mode = _field("mode")
    start_ddegc = _field("start_ddegc")
    stop_ddegc = _field("stop_ddegc")
    start_ma = _field("start_ma")
    stop_ma = _field("stop_ma")
    active = _field("active")
    fault = _field("fault")


class Fallback:
    __slots__ = ("_s",)

    def __init__(self, time_ms, fallback_ma):
        self._s = _ffi.new("cc_fallback *")
        if _lib.cc_fallback_init(self._s, time_ms, fallback_ma) != 0:
            raise ValueError("invalid fallback configuration")

    def reset(self):
        _lib.cc_fallback_reset(self._s)

    def kick(self, now_ms):
        _lib.cc_fallback_kick(self._s, _tick(now_ms))

    def update(self, now_ms, set_ma):
        return _lib.cc_fallback_update(self._s, _tick(now_ms), set_ma)

    time_ms = _field("time_ms")
    fallback_ma = _field("fallback_ma")
    active = _field("active")
