"""Signalled current <-> PWM duty (IEC 61851-1 Annex A), duty in tenths of a percent, current in mA."""

from chargecore.twin.consts import (
    DUTY_OFF,
    EV_DIGITAL,
    EV_ERROR,
    PWM_HIGH_MIN_MA,
    PWM_LOW_MAX_MA,
    PWM_MAX_MA,
    PWM_MIN_MA,
)


def duty_from_current(ma):
    """EVSE side. Rounded down, so the vehicle never reads more than the set current."""
    if ma < PWM_MIN_MA:
        return DUTY_OFF
    if ma > PWM_MAX_MA:
        ma = PWM_MAX_MA
    if ma < PWM_HIGH_MIN_MA:
        if ma > PWM_LOW_MAX_MA:
            ma = PWM_LOW_MAX_MA  # the 51..52.5 A gap has no duty: signal 51 A
        return ma // 60
    return ma // 250 + 640


def current_from_duty(duty):
    """Vehicle side (for the EV simulator): mA, 0 = must not charge, EV_DIGITAL or EV_ERROR."""
    if duty < 30 or duty > 970:
        return 0
    if duty <= 70:
        return EV_DIGITAL
    if duty < 80:
        return EV_ERROR
    if duty < 100:
        return PWM_MIN_MA
    if duty <= 850:
        return duty * 60
    if duty <= 960:
        return (duty - 640) * 250
    return PWM_MAX_MA
