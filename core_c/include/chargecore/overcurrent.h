/* Charge current monitoring: "Overcurrent shutdown" and the "EV/ZE Ready" stage derating. */
#ifndef CHARGECORE_OVERCURRENT_H
#define CHARGECORE_OVERCURRENT_H

#include "chargecore/common.h"

#define CC_OC_CONSTANTS(X) \
    X(OC_MODE_OFF, 0) X(OC_MODE_SHUTDOWN, 1) X(OC_MODE_EVZE, 2) \
    X(OC_OK, 0) X(OC_PAUSED, 1) X(OC_ERROR, 2) \
    X(OC_GRACE_MS, 7000) X(OC_110_MS, 100000) X(OC_120_MS, 10000) X(OC_RESTART_MS, 60000) \
    X(OC_EVZE_OVER_PCT, 110) X(OC_EVZE_HOLD_MS, 10000)

enum { CC_OC_CONSTANTS(CC_ENUM_ENTRY) };

/* EV/ZE Ready: signalled current per stage, percent of the set current (data, not code). */
#define CC_OC_EVZE_STAGES(X) X(100) X(75) X(50)

/* cffi-begin */
extern const int32_t cc_oc_evze_stages_pct[];
extern const int32_t cc_oc_evze_stage_count;

typedef struct {
    int32_t mode;
    int32_t state;
    int32_t trips;
    int32_t stage;
    int32_t limit; /* last limit; a change starts the grace period; -1 = none yet */
    int32_t grace;
    uint32_t grace_at;
    uint32_t paused_at;
    int32_t t110;
    uint32_t t110_at;
    int32_t t120;
    uint32_t t120_at;
} cc_oc;

int cc_oc_init(cc_oc *oc, int32_t mode);
void cc_oc_reset(cc_oc *oc);
int32_t cc_oc_update(cc_oc *oc, uint32_t now_ms, int32_t set_ma, int32_t imax_ma);
/* cffi-end */

#endif
