/* Charge current monitoring: the manual's "Overcurrent shutdown" and "EV/ZE Ready" (stage table as data). */
#include "chargecore/overcurrent.h"

#define CC_STAGE_ENTRY(pct) pct,
const int32_t cc_oc_evze_stages_pct[] = {CC_OC_EVZE_STAGES(CC_STAGE_ENTRY)};
const int32_t cc_oc_evze_stage_count = (int32_t)(sizeof cc_oc_evze_stages_pct / sizeof cc_oc_evze_stages_pct[0]);

int cc_oc_init(cc_oc *oc, int32_t mode)
{
    if (oc == NULL || mode < CC_OC_MODE_OFF || mode > CC_OC_MODE_EVZE) return CC_EINVAL;
    oc->mode = mode;
    cc_oc_reset(oc);
    return CC_OK;
}

void cc_oc_reset(cc_oc *oc)
{
    oc->state = CC_OC_OK;
    oc->trips = oc->stage = 0;
    oc->limit = -1;
    oc->grace = oc->t110 = oc->t120 = 0;
    oc->grace_at = oc->paused_at = oc->t110_at = oc->t120_at = 0;
}

static void start_grace(cc_oc *oc, uint32_t now, int32_t limit)
{
    oc->limit = limit;
    oc->grace = 1;
    oc->grace_at = now;
    oc->t110 = oc->t120 = 0;
}

static int32_t trip(cc_oc *oc, uint32_t now)
{
    oc->trips++;
    oc->t110 = oc->t120 = 0;
    if (oc->trips >= 2) {
        oc->state = CC_OC_ERROR;
    } else {
        oc->state = CC_OC_PAUSED;
        oc->paused_at = now;
    }
    return 0;
}

/* Starts the timer on the first tick over the threshold; 1 once it has run for `ms`. */
static int timer_expired(int32_t *running, uint32_t *since, uint32_t now, uint32_t ms)
{
    if (!*running) {
        *running = 1;
        *since = now;
        return 0;
    }
    return cc_elapsed(now, *since) >= ms;
}

static int32_t evze_limit(int32_t set_ma, int32_t stage)
{
    return (int32_t)((int64_t)set_ma * cc_oc_evze_stages_pct[stage] / 100);
}

int32_t cc_oc_update(cc_oc *oc, uint32_t now, int32_t set_ma, int32_t imax_ma)
{
    int32_t limit;
    int64_t i100 = (int64_t)imax_ma * 100;
    if (oc->mode == CC_OC_MODE_OFF) return set_ma;
    if (oc->state == CC_OC_ERROR) return 0;
    if (set_ma < 0) set_ma = 0;
    if (oc->state == CC_OC_PAUSED) {
        if (cc_elapsed(now, oc->paused_at) < (uint32_t)CC_OC_RESTART_MS) return 0;
        oc->state = CC_OC_OK;
        oc->limit = -1; /* charging restarts: the vehicle gets its grace period again */
    }
    limit = oc->mode == CC_OC_MODE_SHUTDOWN ? set_ma : evze_limit(set_ma, oc->stage);
    if (limit != oc->limit) start_grace(oc, now, limit);
    if (oc->grace) {
        if (cc_elapsed(now, oc->grace_at) < (uint32_t)CC_OC_GRACE_MS) return limit;
        oc->grace = 0;
    }
    if (limit == 0) return 0;
    if (oc->mode == CC_OC_MODE_SHUTDOWN) {
        if (i100 > (int64_t)limit * 120) {
            if (timer_expired(&oc->t120, &oc->t120_at, now, CC_OC_120_MS)) return trip(oc, now);
        } else {
            oc->t120 = 0;
        }
        if (i100 > (int64_t)limit * 110) {
            if (timer_expired(&oc->t110, &oc->t110_at, now, CC_OC_110_MS)) return trip(oc, now);
        } else {
            oc->t110 = 0;
        }
        return limit;
    }
    if (i100 > (int64_t)limit * CC_OC_EVZE_OVER_PCT) {
        if (timer_expired(&oc->t110, &oc->t110_at, now, CC_OC_EVZE_HOLD_MS)) {
            oc->t110 = 0;
            oc->trips++;
            oc->stage++;
            if (oc->stage >= cc_oc_evze_stage_count) {
                oc->stage = cc_oc_evze_stage_count - 1;
                oc->state = CC_OC_ERROR;
                return 0;
            }
            limit = evze_limit(set_ma, oc->stage);
            start_grace(oc, now, limit);
        }
    } else {
        oc->t110 = 0;
    }
    return limit;
}
