/* Proximity pilot: each band's upper edge is inclusive, so a value between bands gets the lower capacity. */
#include "chargecore/pp.h"

int32_t cc_pp_capacity(int32_t ohm)
{
    if (ohm < CC_PP_SHORT_BELOW_OHM) return CC_PP_FAULT;
    if (ohm <= CC_PP_63A_MAX_OHM) return 63000;
    if (ohm <= CC_PP_32A_MAX_OHM) return 32000;
    if (ohm <= CC_PP_20A_MAX_OHM) return 20000;
    if (ohm <= CC_PP_13A_MAX_OHM) return 13000;
    return CC_PP_NONE;
}

int32_t cc_pp_accept(int32_t capacity_ma, int32_t reject)
{
    if (capacity_ma <= 0) return 0;
    switch (reject) {
    case CC_REJECT_NONE: return 1;
    case CC_REJECT_13A: return capacity_ma > 13000;
    case CC_REJECT_20A_13A: return capacity_ma > 20000;
    default: return 0;
    }
}
