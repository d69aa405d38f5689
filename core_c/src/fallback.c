/* Head-module supervision timer. */
#include "chargecore/fallback.h"

int cc_fallback_init(cc_fallback *fb, int32_t time_ms, int32_t fallback_ma)
{
    if (fb == NULL || time_ms < 0 || fallback_ma < 0) return CC_EINVAL;
    fb->time_ms = time_ms;
    fb->fallback_ma = fallback_ma;
    cc_fallback_reset(fb);
    return CC_OK;
}

void cc_fallback_reset(cc_fallback *fb)
{
    fb->active = fb->armed = 0;
    fb->kick_at = 0;
}

void cc_fallback_kick(cc_fallback *fb, uint32_t now)
{
    fb->armed = 1;
    fb->kick_at = now;
    fb->active = 0;
}

int32_t cc_fallback_update(cc_fallback *fb, uint32_t now, int32_t set_ma)
{
    if (fb->time_ms == 0) return set_ma;
    if (!fb->armed) cc_fallback_kick(fb, now); /* supervision starts with the first tick */
    if (!fb->active && cc_elapsed(now, fb->kick_at) >= (uint32_t)fb->time_ms) fb->active = 1;
    return fb->active ? fb->fallback_ma : set_ma;
}
