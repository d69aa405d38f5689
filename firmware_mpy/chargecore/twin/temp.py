"""Temperature: Pt1000 (IEC 60751) resistance -> temperature, PTC chain, derating (linear or activation)."""

from chargecore.twin.arith import div_round
from chargecore.twin.consts import (
    DERATE_ACTIVATION,
    DERATE_LINEAR,
    NO_LIMIT_MA,
    PT1000_MAX_DDEGC,
    PT1000_MIN_DDEGC,
    PT1000_TABLE_MAX_DDEGC,
    PT1000_TABLE_MIN_DDEGC,
    PTC_FAULT,
    PTC_OK,
    PTC_TRIP,
    TEMP_OPEN,
    TEMP_SHORT,
)


def pt1000_mohm(ddegc):
    """Callendar-Van Dusen: R(T) in milliohm for T in tenths of a degree (A, B, and C below 0 degC)."""
    d = ddegc
    if d < PT1000_TABLE_MIN_DDEGC:
        d = PT1000_TABLE_MIN_DDEGC
    if d > PT1000_TABLE_MAX_DDEGC:
        d = PT1000_TABLE_MAX_DDEGC
    r = 1000000 + div_round(39083 * d, 100) - div_round(5775 * d * d, 1000000)
    if d < 0:
        r -= div_round(4183 * (d - 1000) * d * d * d, 10000000000000)
    return r


def pt1000_ddegc(mohm):
    """Temperature in tenths of a degree, nearest; TEMP_SHORT / TEMP_OPEN outside -50..250 degC."""
    lo = PT1000_MIN_DDEGC
    hi = PT1000_MAX_DDEGC
    r_lo = pt1000_mohm(lo)
    r_hi = pt1000_mohm(hi)
    if mohm < r_lo:
        return TEMP_SHORT
    if mohm > r_hi:
        return TEMP_OPEN
    while hi - lo > 1:
        mid = lo + (hi - lo) // 2
        r_mid = pt1000_mohm(mid)
        if r_mid <= mohm:
            lo = mid
            r_lo = r_mid
        else:
            hi = mid
            r_hi = r_mid
    return hi if 2 * mohm >= r_lo + r_hi else lo


def ptc_status(ohm, trip_ohm):
    """PTC chain: PTC_TRIP at or above the terminating (trip) resistance, PTC_FAULT for absurd values."""
    if ohm < 0 or trip_ohm <= 0:
        return PTC_FAULT
    if ohm >= trip_ohm:
        return PTC_TRIP
    return PTC_OK


class Derating:
    """Temperature derating: update(ddegc) returns the current limit in mA (NO_LIMIT_MA = none, 0 = stop)."""

    def __init__(self, mode, start_ddegc, stop_ddegc, start_ma, stop_ma):
        if (
            mode < DERATE_LINEAR
            or mode > DERATE_ACTIVATION
            or start_ddegc >= stop_ddegc
            or start_ddegc < PT1000_TABLE_MIN_DDEGC
            or stop_ddegc > PT1000_TABLE_MAX_DDEGC
            or start_ma > NO_LIMIT_MA
            or start_ma <= stop_ma
            or stop_ma < 0
        ):
            raise ValueError(
                "invalid derating: need -200 degC <= start < stop <= 850 degC, 1000 A >= start current > stop >= 0"
            )
        self.mode = mode
        self.start_ddegc = start_ddegc
        self.stop_ddegc = stop_ddegc
        self.start_ma = start_ma
        self.stop_ma = stop_ma
        self.reset()

    def reset(self):
        self.active = 0
        self.fault = 0

    def update(self, ddegc):
        if ddegc >= TEMP_SHORT:
            self.fault = 1
            self.active = 1
            return 0
        self.fault = 0
        if self.mode == DERATE_LINEAR:
            if ddegc < self.start_ddegc:
                self.active = 0
                return NO_LIMIT_MA
            self.active = 1
            if ddegc >= self.stop_ddegc:
                return 0
            return self.start_ma - div_round(
                (self.start_ma - self.stop_ma) * (ddegc - self.start_ddegc),
                self.stop_ddegc - self.start_ddegc,
            )
        # Activation: a switch with hysteresis, on at the stop temperature, off below the start temperature.
        if ddegc >= self.stop_ddegc:
            self.active = 1
        elif ddegc < self.start_ddegc:
            self.active = 0
        return self.stop_ma if self.active else NO_LIMIT_MA
