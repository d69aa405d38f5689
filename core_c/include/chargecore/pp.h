/* Proximity pilot: PP-PE resistance -> cable capacity (mA), and plug rejection. */
#ifndef CHARGECORE_PP_H
#define CHARGECORE_PP_H

#include "chargecore/common.h"

#define CC_PP_CONSTANTS(X) \
    X(PP_NONE, 0) X(PP_FAULT, -1) \
    X(PP_SHORT_BELOW_OHM, 60) X(PP_63A_MAX_OHM, 140) X(PP_32A_MAX_OHM, 308) X(PP_20A_MAX_OHM, 936) \
    X(PP_13A_MAX_OHM, 4500) \
    X(REJECT_NONE, 0) X(REJECT_13A, 1) X(REJECT_20A_13A, 2)

enum { CC_PP_CONSTANTS(CC_ENUM_ENTRY) };

/* cffi-begin */
int32_t cc_pp_capacity(int32_t ohm);
int32_t cc_pp_accept(int32_t capacity_ma, int32_t reject);
/* cffi-end */

#endif
