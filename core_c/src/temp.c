/* Temperature: Pt1000 by bisection over the Callendar-Van Dusen polynomial, PTC chain, derating. */
#include "chargecore/temp.h"

int32_t cc_pt1000_mohm(int32_t ddegc)
{
    int64_t d = ddegc, r;
    if (d < CC_PT1000_TABLE_MIN_DDEGC) d = CC_PT1000_TABLE_MIN_DDEGC;
    if (d > CC_PT1000_TABLE_MAX_DDEGC) d = CC_PT1000_TABLE_MAX_DDEGC;
    /* R = 1000 Ohm * (1 + A T + B T^2 [+ C (T - 100) T^3 below 0 degC]), A = 3.9083e-3, B = -5.775e-7,
     * C = -4.183e-12, T = d / 10; each term scaled to milliohm. */
    r = 1000000 + cc_div_round(39083 * d, 100) - cc_div_round(5775 * d * d, 1000000);
    if (d < 0) r -= cc_div_round(4183 * (d - 1000) * d * d * d, 10000000000000LL);
    return (int32_t)r;
}

int32_t cc_pt1000_ddegc(int32_t mohm)
{
    int32_t lo = CC_PT1000_MIN_DDEGC, hi = CC_PT1000_MAX_DDEGC;
    int64_t r_lo = cc_pt1000_mohm(lo), r_hi = cc_pt1000_mohm(hi);
    if (mohm < r_lo) return CC_TEMP_SHORT;
    if (mohm > r_hi) return CC_TEMP_OPEN;
    while (hi - lo > 1) {
        int32_t mid = lo + (hi - lo) / 2;
        int64_t r_mid = cc_pt1000_mohm(mid);
        if (r_mid <= mohm) {
            lo = mid;
            r_lo = r_mid;
        } else {
            hi = mid;
            r_hi = r_mid;
        }
    }
    return 2 * (int64_t)mohm >= r_lo + r_hi ? hi : lo;
}

int32_t cc_ptc_status(int32_t ohm, int32_t trip_ohm)
{
    if (ohm < 0 || trip_ohm <= 0) return CC_PTC_FAULT;
    return ohm >= trip_ohm ? CC_PTC_TRIP : CC_PTC_OK;
}

int cc_derating_init(cc_derating *d, int32_t mode, int32_t start_ddegc, int32_t stop_ddegc, int32_t start_ma,
                     int32_t stop_ma)
{
    if (d == NULL || mode < CC_DERATE_LINEAR || mode > CC_DERATE_ACTIVATION || start_ddegc >= stop_ddegc ||
        start_ddegc < CC_PT1000_TABLE_MIN_DDEGC || stop_ddegc > CC_PT1000_TABLE_MAX_DDEGC || start_ma <= stop_ma ||
        stop_ma < 0 || start_ma > CC_NO_LIMIT_MA) {
        return CC_EINVAL;
    }
    d->mode = mode;
    d->start_ddegc = start_ddegc;
    d->stop_ddegc = stop_ddegc;
    d->start_ma = start_ma;
    d->stop_ma = stop_ma;
    cc_derating_reset(d);
    return CC_OK;
}

void cc_derating_reset(cc_derating *d)
{
    d->active = d->fault = 0;
}

int32_t cc_derating_update(cc_derating *d, int32_t t)
{
    if (t >= CC_TEMP_SHORT) {
        d->fault = d->active = 1;
        return 0;
    }
    d->fault = 0;
    if (d->mode == CC_DERATE_LINEAR) {
        if (t < d->start_ddegc) {
            d->active = 0;
            return CC_NO_LIMIT_MA;
        }
        d->active = 1;
        if (t >= d->stop_ddegc) return 0;
        return d->start_ma - (int32_t)cc_div_round((int64_t)(d->start_ma - d->stop_ma) * (t - d->start_ddegc),
                                                   d->stop_ddegc - d->start_ddegc);
    }
    /* Activation: a switch with hysteresis, on at the stop temperature, off below the start temperature. */
    if (t >= d->stop_ddegc) {
        d->active = 1;
    } else if (t < d->start_ddegc) {
        d->active = 0;
    }
    return d->active ? d->stop_ma : CC_NO_LIMIT_MA;
}
