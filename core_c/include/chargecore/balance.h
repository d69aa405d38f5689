/* Out-of-balance suppression (20 A between phases) and the meter's phase rotation. */
#ifndef CHARGECORE_BALANCE_H
#define CHARGECORE_BALANCE_H

#include "chargecore/common.h"

#define CC_BALANCE_CONSTANTS(X) \
    X(UNBALANCE_MAX_MA, 20000) \
    X(ROT_L1L2L3, 0) X(ROT_L2L3L1, 1) X(ROT_L3L1L2, 2) X(ROT_L1L3L2, 3) X(ROT_L3L2L1, 4) X(ROT_L2L1L3, 5)

enum { CC_BALANCE_CONSTANTS(CC_ENUM_ENTRY) };

/* cffi-begin */
int32_t cc_balance_limit(int32_t set_ma, int32_t i1, int32_t i2, int32_t i3);
int32_t cc_phase_of(int32_t rotation, int32_t phase);
/* cffi-end */

#endif
