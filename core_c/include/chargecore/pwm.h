/* Signalled current <-> PWM duty (IEC 61851-1 Annex A); duty in tenths of a percent, current in mA. */
#ifndef CHARGECORE_PWM_H
#define CHARGECORE_PWM_H

#include "chargecore/common.h"

#define CC_PWM_CONSTANTS(X) \
    X(DUTY_F, 0) X(DUTY_DIGITAL, 50) X(DUTY_OFF, 1000) \
    X(PWM_MIN_MA, 6000) X(PWM_LOW_MAX_MA, 51000) X(PWM_HIGH_MIN_MA, 52500) X(PWM_MAX_MA, 80000) \
    X(EV_DIGITAL, -1) X(EV_ERROR, -2)

enum { CC_PWM_CONSTANTS(CC_ENUM_ENTRY) };

/* cffi-begin */
int32_t cc_duty_from_current(int32_t ma);
int32_t cc_current_from_duty(int32_t duty);
/* cffi-end */

#endif
