/* Signalled current <-> PWM duty. */
#include "chargecore/pwm.h"

int32_t cc_duty_from_current(int32_t ma)
{
    if (ma < CC_PWM_MIN_MA) return CC_DUTY_OFF;
    if (ma > CC_PWM_MAX_MA) ma = CC_PWM_MAX_MA;
    if (ma < CC_PWM_HIGH_MIN_MA) {
        if (ma > CC_PWM_LOW_MAX_MA) ma = CC_PWM_LOW_MAX_MA; /* the 51..52.5 A gap has no duty: signal 51 A */
        return ma / 60;                                     /* rounded down: never more than asked */
    }
    return ma / 250 + 640;
}

int32_t cc_current_from_duty(int32_t duty)
{
    if (duty < 30 || duty > 970) return 0;
    if (duty <= 70) return CC_EV_DIGITAL;
    if (duty < 80) return CC_EV_ERROR;
    if (duty < 100) return CC_PWM_MIN_MA;
    if (duty <= 850) return duty * 60;
    if (duty <= 960) return (duty - 640) * 250;
    return CC_PWM_MAX_MA;
}
