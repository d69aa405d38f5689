# Declarations of the C core (core_c/include/chargecore/*.h) for the Cython binding.
from libc.stdint cimport int32_t, uint16_t, uint32_t


cdef extern from "chargecore/chargecore.h" nogil:
    ctypedef struct cc_named_const:
        const char *name
        int32_t value
    const cc_named_const cc_constants[]
    const int32_t cc_constant_count
    enum:  # the defaults of the constructors
        CC_CP_DEFAULT_SAMPLE_RATE_HZ
        CC_CP_DEFAULT_EDGE_SKIP
        CC_CP_DEFAULT_NOISE_MV
        CC_CP_DEFAULT_NOISY_LIMIT
        CC_CT_DEFAULT_DEBOUNCE_MS
        CC_CT_DEFAULT_TIMEOUT_MS
        CC_RCM_TRIP_UA
        CC_RCM_DEFAULT_FILTER_MS

    ctypedef struct cc_cp_config:
        int32_t adc_zero
        int32_t mv_num
        int32_t mv_den
        int32_t sample_rate_hz
        int32_t edge_skip
        int32_t noise_mv
        int32_t noisy_limit
    ctypedef struct cc_cp:
        cc_cp_config cfg
        int32_t status, high_mv, low_mv, high_n, low_n, duty, freq_hz, state, faults, diode_ok, noisy
    int cc_cp_init(cc_cp *cp, const cc_cp_config *cfg)
    void cc_cp_reset(cc_cp *cp)
    int32_t cc_cp_window(cc_cp *cp, const uint16_t *samples, size_t n)
    int32_t cc_cp_classify(cc_cp *cp, int pwm_on)
    int32_t cc_cp_update(cc_cp *cp, const uint16_t *samples, size_t n, int pwm_on)
    int32_t cc_cp_state(int32_t prev, int32_t high_n, int32_t high_mv, int32_t low_n, int32_t low_mv)

    int32_t cc_duty_from_current(int32_t ma)
    int32_t cc_current_from_duty(int32_t duty)
    int32_t cc_pp_capacity(int32_t ohm)
    int32_t cc_pp_accept(int32_t capacity_ma, int32_t reject)
    int32_t cc_balance_limit(int32_t set_ma, int32_t i1, int32_t i2, int32_t i3)
    int32_t cc_phase_of(int32_t rotation, int32_t phase)

    const int32_t cc_oc_evze_stages_pct[]
    const int32_t cc_oc_evze_stage_count
    ctypedef struct cc_oc:
        int32_t mode, state, trips, stage
    int cc_oc_init(cc_oc *oc, int32_t mode)
    void cc_oc_reset(cc_oc *oc)
    int32_t cc_oc_update(cc_oc *oc, uint32_t now_ms, int32_t set_ma, int32_t imax_ma)

    ctypedef struct cc_ct:
        int32_t aux, debounce_ms, timeout_ms, fault, closed
    int cc_ct_init(cc_ct *ct, int32_t aux, int32_t debounce_ms, int32_t timeout_ms)
    void cc_ct_reset(cc_ct *ct)
    int32_t cc_ct_update(cc_ct *ct, uint32_t now_ms, int command, int aux_high)

    ctypedef struct cc_rcm:
        int32_t trip_ua, filter_ms, status, tripped, test_ok, test_pin
    int cc_rcm_init(cc_rcm *rcm, int32_t trip_ua, int32_t filter_ms)
    void cc_rcm_reset(cc_rcm *rcm)
    int32_t cc_rcm_start_test(cc_rcm *rcm, uint32_t now_ms)
    int32_t cc_rcm_update(cc_rcm *rcm, uint32_t now_ms, int32_t residual_ua)

    ctypedef struct cc_derating:
        int32_t mode, start_ddegc, stop_ddegc, start_ma, stop_ma, active, fault
    int32_t cc_pt1000_mohm(int32_t ddegc)
    int32_t cc_pt1000_ddegc(int32_t mohm)
    int32_t cc_ptc_status(int32_t ohm, int32_t trip_ohm)
    int cc_derating_init(cc_derating *d, int32_t mode, int32_t start_ddegc, int32_t stop_ddegc, int32_t start_ma,
                         int32_t stop_ma)
    void cc_derating_reset(cc_derating *d)
    int32_t cc_derating_update(cc_derating *d, int32_t ddegc)

    ctypedef struct cc_fallback:
        int32_t time_ms, fallback_ma, active
    int cc_fallback_init(cc_fallback *fb, int32_t time_ms, int32_t fallback_ma)
    void cc_fallback_reset(cc_fallback *fb)
    void cc_fallback_kick(cc_fallback *fb, uint32_t now_ms)
    int32_t cc_fallback_update(cc_fallback *fb, uint32_t now_ms, int32_t set_ma)
