/* Head-module supervision: the fallback current once the head has been silent for the fallback time. */
#ifndef CHARGECORE_FALLBACK_H
#define CHARGECORE_FALLBACK_H

#include "chargecore/common.h"

/* cffi-begin */
typedef struct {
    int32_t time_ms; /* 0 disables the fallback */
    int32_t fallback_ma;
    int32_t active;
    int32_t armed;
    uint32_t kick_at;
} cc_fallback;

int cc_fallback_init(cc_fallback *fb, int32_t time_ms, int32_t fallback_ma);
void cc_fallback_reset(cc_fallback *fb);
void cc_fallback_kick(cc_fallback *fb, uint32_t now_ms);
int32_t cc_fallback_update(cc_fallback *fb, uint32_t now_ms, int32_t set_ma);
/* cffi-end */

#endif
