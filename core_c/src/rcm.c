/* DC residual current: filtered latched trip and the self-test sequence. */
#include "chargecore/rcm.h"

enum { IDLE = 0, PULSE = 1, RELEASE = 2 };

int cc_rcm_init(cc_rcm *rcm, int32_t trip_ua, int32_t filter_ms)
{
    if (rcm == NULL || trip_ua <= 0 || filter_ms < 0) return CC_EINVAL;
    rcm->trip_ua = trip_ua;
    rcm->filter_ms = filter_ms;
    cc_rcm_reset(rcm);
    return CC_OK;
}

void cc_rcm_reset(cc_rcm *rcm)
{
    rcm->status = CC_RCM_OK;
    rcm->tripped = rcm->test_ok = rcm->test_pin = rcm->over = 0;
    rcm->phase = IDLE;
    rcm->phase_at = rcm->over_at = 0;
}

static int32_t fail(cc_rcm *rcm)
{
    rcm->phase = IDLE;
    rcm->test_pin = 0;
    rcm->status = CC_RCM_TEST_FAILED;
    return CC_RCM_TEST_FAILED;
}

int32_t cc_rcm_start_test(cc_rcm *rcm, uint32_t now)
{
    if (rcm->status == CC_RCM_TEST_FAILED) return CC_RCM_TEST_FAILED;
    rcm->test_ok = 0;
    if (rcm->over) return fail(rcm); /* a sensor that already reports cannot prove anything */
    rcm->phase = PULSE;
    rcm->phase_at = now;
    rcm->test_pin = 1;
    rcm->status = CC_RCM_TESTING;
    return CC_RCM_TESTING;
}

int32_t cc_rcm_update(cc_rcm *rcm, uint32_t now, int32_t residual_ua)
{
    int over = residual_ua >= rcm->trip_ua;
    if (rcm->status == CC_RCM_TEST_FAILED) {
        rcm->over = over;
        return CC_RCM_TEST_FAILED;
    }
    if (rcm->phase == PULSE) {
        rcm->over = 0; /* the test current is not a residual current */
        if (over) {
            rcm->phase = RELEASE;
            rcm->phase_at = now;
            rcm->test_pin = 0;
        } else if (cc_elapsed(now, rcm->phase_at) > (uint32_t)CC_RCM_TEST_TRIP_MAX_MS) {
            return fail(rcm);
        }
        return CC_RCM_TESTING;
    }
    if (rcm->phase == RELEASE) {
        if (!over) {
            rcm->phase = IDLE;
            rcm->test_ok = 1;
            rcm->status = rcm->tripped ? CC_RCM_TRIPPED : CC_RCM_OK;
            return rcm->status;
        }
        if (cc_elapsed(now, rcm->phase_at) > (uint32_t)CC_RCM_TEST_RELEASE_MAX_MS) return fail(rcm);
        return CC_RCM_TESTING;
    }
    if (over) {
        if (!rcm->over) {
            rcm->over = 1;
            rcm->over_at = now;
        }
        if (!rcm->tripped && cc_elapsed(now, rcm->over_at) >= (uint32_t)rcm->filter_ms) {
            rcm->tripped = 1;
            rcm->status = CC_RCM_TRIPPED;
        }
    } else {
        rcm->over = 0;
    }
    return rcm->status;
}
