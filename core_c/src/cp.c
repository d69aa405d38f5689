/* Control pilot window statistics and classification; the rules are in docs/core-api.md. */
#include "chargecore/cp.h"

static int32_t to_mv(const cc_cp_config *cfg, int64_t total, int64_t count)
{
    return (int32_t)cc_div_round((total - (int64_t)cfg->adc_zero * count) * cfg->mv_num, count * cfg->mv_den);
}

static int32_t span_mv(const cc_cp_config *cfg, uint32_t lo, uint32_t hi)
{
    return (int32_t)cc_div_round((int64_t)(hi - lo) * cfg->mv_num, cfg->mv_den);
}

int cc_cp_init(cc_cp *cp, const cc_cp_config *cfg)
{
    if (cp == NULL || cfg == NULL || cfg->mv_num <= 0 || cfg->mv_den <= 0 || cfg->adc_zero < 0 ||
        cfg->adc_zero > 65535 || cfg->sample_rate_hz <= 0 || cfg->edge_skip < 0 || cfg->noise_mv < 0 ||
        cfg->noisy_limit < 1 || (int64_t)65535 * cfg->mv_num > (int64_t)CC_CP_MAX_FULL_SCALE_MV * cfg->mv_den) {
        return CC_EINVAL;
    }
    cp->cfg = *cfg;
    cc_cp_reset(cp);
    return CC_OK;
}

void cc_cp_reset(cc_cp *cp)
{
    cp->status = CC_WIN_EMPTY;
    cp->high_mv = cp->low_mv = cp->high_n = cp->low_n = cp->duty = cp->freq_hz = 0;
    cp->state = CC_STATE_NONE;
    cp->faults = cp->diode_ok = cp->noisy = 0;
}

int32_t cc_cp_state(int32_t prev, int32_t high_n, int32_t high_mv, int32_t low_n, int32_t low_mv)
{
    int32_t v = high_mv;
    if (high_n <= 0) {
        return (low_n > 0 && low_mv >= CC_CP_F_MIN_MV && low_mv <= CC_CP_F_MAX_MV) ? CC_STATE_F
                                                                                  : CC_STATE_PILOT_FAULT;
    }
    if (v > CC_CP_PILOT_FAULT_ABOVE_MV) return CC_STATE_PILOT_FAULT;
    if (v >= CC_CP_A_MIN_MV) return CC_STATE_A;
    if (v >= CC_CP_A_HYST_MIN_MV) return prev == CC_STATE_A ? CC_STATE_A : CC_STATE_B;
    if (v >= CC_CP_B_MIN_MV) return CC_STATE_B;
    if (v >= CC_CP_B_HYST_MIN_MV) return (prev == CC_STATE_A || prev == CC_STATE_B) ? CC_STATE_B : CC_STATE_C;
    if (v >= CC_CP_C_MIN_MV) return CC_STATE_C;
    if (v >= CC_CP_C_HYST_MIN_MV) return (prev >= CC_STATE_A && prev <= CC_STATE_C) ? CC_STATE_C : CC_STATE_D;
    if (v >= CC_CP_D_MIN_MV) return CC_STATE_D;
    if (v >= CC_CP_E_MIN_MV) return CC_STATE_E;
    return CC_STATE_PILOT_FAULT;
}

static int32_t finish(cc_cp *cp, int32_t status)
{
    cp->status = status;
    return status;
}

/* A window with less swing than CC_CP_MIN_SWING_MV: one level, no PWM; its sign says which plateau. */
static int32_t constant_window(cc_cp *cp, const uint16_t *s, size_t n, uint32_t lo, uint32_t hi)
{
    uint32_t total = 0;
    int32_t level;
    size_t i;
    for (i = 0; i < n; i++) total += s[i];
    level = to_mv(&cp->cfg, total, (int64_t)n);
    if (span_mv(&cp->cfg, lo, hi) > cp->cfg.noise_mv) return finish(cp, CC_WIN_NOISY);
    if (level >= CC_CP_E_MIN_MV) {
        cp->high_n = (int32_t)n;
        cp->high_mv = level;
        cp->duty = 1000;
    } else {
        cp->low_n = (int32_t)n;
        cp->low_mv = level;
    }
    return finish(cp, CC_WIN_OK);
}

/* Sum, min and max of one plateau's samples (a tight loop the compiler can vectorise). */
static void accumulate(const uint16_t *s, size_t from, size_t to, uint32_t *sum, size_t *count, uint32_t *min,
                       uint32_t *max)
{
    uint32_t total = 0, lo = *min, hi = *max;
    size_t i;
    for (i = from; i < to; i++) {
        uint32_t v = s[i];
        total += v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    *sum += total;
    *count += to - from;
    *min = lo;
    *max = hi;
}

int32_t cc_cp_window(cc_cp *cp, const uint16_t *s, size_t n)
{
    uint32_t lo = 65535, hi = 0, thr, hs = 0, ls = 0, hmin = 65535, hmax = 0, lmin = 65535, lmax = 0;
    size_t i, skip, hn = 0, ln = 0, nhigh = 0, rises = 0, first = 0, last = 0, cfirst = 0, clast = 0;
    int glitch = 0;

    cp->high_n = cp->low_n = cp->high_mv = cp->low_mv = cp->duty = cp->freq_hz = 0;
    if (s == NULL || n == 0 || n > (size_t)CC_CP_MAX_SAMPLES) return finish(cp, CC_WIN_EMPTY);
    for (i = 0; i < n; i++) {
        lo = s[i] < lo ? s[i] : lo;
        hi = s[i] > hi ? s[i] : hi;
    }
    if (span_mv(&cp->cfg, lo, hi) < CC_CP_MIN_SWING_MV) return constant_window(cp, s, n, lo, hi);

    thr = (lo + hi) / 2;
    skip = (size_t)cp->cfg.edge_skip;
    /* Run by run: every run but the first starts at an edge; its first `skip` samples are never averaged. */
    for (i = 0; i < n;) {
        size_t start = i, from;
        int high = s[i] > thr;
        if (high) {
            while (i < n && s[i] > thr) i++;
        } else {
            while (i < n && s[i] <= thr) i++;
        }
        if (start > 0 && i < n && i - start <= skip) glitch = 1; /* a plateau too short to measure */
        if (high && start > 0) {
            if (rises == 0) {
                first = start;
                cfirst = nhigh;
            }
            rises++;
            last = start;
            clast = nhigh;
        }
        from = start + skip;
        if (high) {
            nhigh += i - start;
            if (from < i) accumulate(s, from, i, &hs, &hn, &hmin, &hmax);
        } else if (from < i) {
            accumulate(s, from, i, &ls, &ln, &lmin, &lmax);
        }
    }
    if (glitch || hn == 0 || ln == 0) return finish(cp, CC_WIN_NOISY);
    if (span_mv(&cp->cfg, hmin, hmax) > cp->cfg.noise_mv || span_mv(&cp->cfg, lmin, lmax) > cp->cfg.noise_mv) {
        return finish(cp, CC_WIN_NOISY);
    }
    cp->high_n = (int32_t)hn;
    cp->low_n = (int32_t)ln;
    cp->high_mv = to_mv(&cp->cfg, hs, (int64_t)hn);
    cp->low_mv = to_mv(&cp->cfg, ls, (int64_t)ln);
    if (rises >= 2) {
        /* Whole periods only: from the first rising edge to the last one. */
        cp->duty = (int32_t)cc_div_round((int64_t)(clast - cfirst) * 1000, (int64_t)(last - first));
        cp->freq_hz = (int32_t)cc_div_round((int64_t)(rises - 1) * cp->cfg.sample_rate_hz, (int64_t)(last - first));
    } else {
        cp->duty = (int32_t)cc_div_round((int64_t)nhigh * 1000, (int64_t)n);
    }
    return finish(cp, CC_WIN_OK);
}

int32_t cc_cp_classify(cc_cp *cp, int pwm_on)
{
    int32_t st;
    if (cp->status != CC_WIN_OK) {
        if (++cp->noisy >= cp->cfg.noisy_limit) {
            cp->noisy = cp->cfg.noisy_limit; /* saturate: no growth over a long outage */
            cp->faults |= CC_CP_FAULT_NOISY;
        }
        return cp->state;
    }
    cp->noisy = 0;
    cp->faults &= ~CC_CP_FAULT_NOISY;
    st = cc_cp_state(cp->state, cp->high_n, cp->high_mv, cp->low_n, cp->low_mv);
    cp->state = st;
    if (st == CC_STATE_A) {
        cp->faults &= ~CC_CP_FAULT_DIODE;
        cp->diode_ok = 0;
    } else if (pwm_on && st >= CC_STATE_B && st <= CC_STATE_D) {
        if (cp->low_n > 0 && cp->low_mv <= CC_CP_DIODE_NEG_MAX_MV) {
            cp->diode_ok = 1;
        } else {
            cp->faults |= CC_CP_FAULT_DIODE;
        }
    }
    return st;
}

int32_t cc_cp_update(cc_cp *cp, const uint16_t *samples, size_t n, int pwm_on)
{
    cc_cp_window(cp, samples, n);
    return cc_cp_classify(cp, pwm_on);
}
