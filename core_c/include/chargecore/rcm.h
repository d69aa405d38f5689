/* DC residual current monitoring (6 mA), its self-test and the latched trip. Current in microampere. */
#ifndef CHARGECORE_RCM_H
#define CHARGECORE_RCM_H

#include "chargecore/common.h"

#define CC_RCM_CONSTANTS(X) \
    X(RCM_OK, 0) X(RCM_TRIPPED, 1) X(RCM_TESTING, 2) X(RCM_TEST_FAILED, 3) \
    X(RCM_TRIP_UA, 6000) X(RCM_DEFAULT_FILTER_MS, 40) X(RCM_TEST_TRIP_MAX_MS, 500) \
    X(RCM_TEST_RELEASE_MAX_MS, 500)

enum { CC_RCM_CONSTANTS(CC_ENUM_ENTRY) };

/* cffi-begin */
typedef struct {
    int32_t trip_ua;
    int32_t filter_ms;
    int32_t status;
    int32_t tripped;
    int32_t test_ok;
    int32_t test_pin;
    int32_t phase; /* 0 idle, 1 test pulse, 2 release */
    uint32_t phase_at;
    int32_t over;
    uint32_t over_at;
} cc_rcm;

int cc_rcm_init(cc_rcm *rcm, int32_t trip_ua, int32_t filter_ms);
void cc_rcm_reset(cc_rcm *rcm);
int32_t cc_rcm_start_test(cc_rcm *rcm, uint32_t now_ms);
int32_t cc_rcm_update(cc_rcm *rcm, uint32_t now_ms, int32_t residual_ua);
/* cffi-end */

#endif
