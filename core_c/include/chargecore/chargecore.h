/* The whole safety core: one include for the bindings. */
#ifndef CHARGECORE_H
#define CHARGECORE_H

#include "chargecore/balance.h"
#include "chargecore/common.h"
#include "chargecore/contactor.h"
#include "chargecore/cp.h"
#include "chargecore/fallback.h"
#include "chargecore/overcurrent.h"
#include "chargecore/pp.h"
#include "chargecore/pwm.h"
#include "chargecore/rcm.h"
#include "chargecore/temp.h"

#define CC_ALL_CONSTANTS(X) \
    CC_COMMON_CONSTANTS(X) CC_CP_CONSTANTS(X) CC_PWM_CONSTANTS(X) CC_PP_CONSTANTS(X) CC_OC_CONSTANTS(X) \
    CC_BALANCE_CONSTANTS(X) CC_CT_CONSTANTS(X) CC_RCM_CONSTANTS(X) CC_TEMP_CONSTANTS(X)

#endif
